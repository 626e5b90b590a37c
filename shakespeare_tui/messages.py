"""Textual messages: how workers and screens tell the UI what happened.

Workers only ever talk to the UI through these (`post_message` is thread-safe and never blocks).
They carry plain values — the core's frozen event dataclasses, strings — never tensors.
"""

from __future__ import annotations

from textual.message import Message


class TrainingEvent(Message, bubble=False):
    """One of the engine's plain events (`core.events`), posted from the training thread.

    It stays with the Train view (nothing above it handles it), so it is not bubbled.
    """

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event


class TorchReady(Message):
    """torch finished loading in the background; `device_label` describes the default device."""

    def __init__(self, device_label: str, device_type: str) -> None:
        super().__init__()
        self.device_label = device_label
        self.device_type = device_type  # "cuda", "mps" or "cpu"


class CheckpointsChanged(Message):
    """A checkpoint was written: views that list checkpoints should look again."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path


class HeaderInfo(Message):
    """The Train view's corpus and model changed: the header shows them."""

    def __init__(self, corpus: str, model: str) -> None:
        super().__init__()
        self.corpus = corpus
        self.model = model
