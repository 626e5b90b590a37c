"""The UI-free engine, grouped by concern; nothing here imports textual, rich or the CLI.

The modules at this level are the shared base (settings, cells, errors, paths, events, devices,
units, numbers as people read them, atomic files). The subpackages import in one direction:

    training, inspection  →  runs, sampling, sizing  →  model  →  text  →  the base

(`lint-imports` checks it: the contracts are in pyproject.toml.)
"""
