"""Widgets that own their rendering: the loss chart, training progress, the settings form."""
