"""shakespeare-tui: train a character-level language model on Shakespeare in your terminal."""

__version__ = "0.2.0"
