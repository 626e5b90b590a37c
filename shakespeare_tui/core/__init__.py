"""The UI-free engine: corpus, vocabulary, batching, model, training, sampling, checkpoints.

Nothing under `core` imports textual or rich, and nothing here imports torch at module level
unless the module is about torch itself; the app imports these lazily, in workers.
"""
