"""The Runs view: every run in a table, selected runs overlaid on one chart, actions on a run."""
