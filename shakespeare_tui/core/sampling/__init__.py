"""Generating text: characters one at a time, reproducible from a seed, streamed to a person."""
