"""Speed and quality benchmarks for shakespeare-tui: `python -m benchmarks.run --help`.

They print tables; they are not tests and never fail a test run.
"""
