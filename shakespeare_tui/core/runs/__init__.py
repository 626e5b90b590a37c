"""Run folders and what is read from them: the lock, metrics as they grow, the runs table,
curves, differences, renames and deletions, the queue, and the checkpoints a person can pick."""
