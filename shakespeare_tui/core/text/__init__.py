"""The text a model trains on: corpora, their maps in the cache, the vocabulary, batches of
windows, and passages to inspect."""
