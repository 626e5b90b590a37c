"""Widgets more than one view uses: the loss chart, form rows, the checkpoint picker."""
