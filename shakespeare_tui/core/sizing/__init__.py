"""Sizing a model to a time budget: the ladder of recipes, timing them here, and the rule."""
