"""The Inspect view: what a checkpoint's network does over a text."""
