"""The Inspect view: what a checkpoint's network does over a text (screen.py, and the parts it
composes: the text view, the next-character panel, the lens, and the tabs)."""
