"""The Generate view: pick a checkpoint, set the sampling controls, stream text."""
