"""Widgets more than one view uses: form rows (Train, Generate), the checkpoint picker (Generate,
Inspect), and the axes of the two loss charts (Train, Runs)."""
