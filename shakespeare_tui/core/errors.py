"""Errors a person can act on: each carries one line that says what was wrong and what to do."""


class UserError(Exception):
    """Bad input or usage (the CLI exits 2). The message is one line, shown as is."""


class CorpusError(UserError):
    """The corpus cannot be used for training."""


class CheckpointError(UserError):
    """A checkpoint file cannot be loaded."""


class SamplingError(UserError):
    """Generation settings or the prompt are unusable."""


class RunLockedError(UserError):
    """Another process is writing this run."""


class TrainingError(Exception):
    """Training failed at run time (the CLI exits 1): out of memory, a device fault."""
