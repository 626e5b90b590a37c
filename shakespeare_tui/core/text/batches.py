"""Batching: each step draws windows of the encoded text by index arithmetic.

A text read whole (an array) lives whole on the device. A corpus too large for that
(MappedCodes, core/text/corpus_map.py) stays in its encoded file: each step reads just its windows
from the file on the host and copies them over (pinned and non-blocking on a GPU), so the text
is never read into memory; the same seed draws the same windows either way.

We draw `batch_size` windows at random start positions (nanoGPT's way) rather than walking
`batch_size` contiguous streams with the hidden state carried between windows (char-rnn's way):
measured on tiny Shakespeare, carried state gave no better validation loss and ran 10% slower,
and random windows make resume trivial: the data position is just an RNG state.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from shakespeare_tui.core.device import Autocast
from shakespeare_tui.core.errors import CorpusError
from shakespeare_tui.core.text.corpus_map import MappedCodes

if TYPE_CHECKING:
    from shakespeare_tui.core.config import TrainConfig

# Validation walks this many contiguous streams of the held-out text, state carried through.
VAL_STREAMS = 32
VAL_CHUNK = 256
# A held-out text longer than this is scored on a fixed subset of this many characters (one
# seeded piece from each of VAL_STREAMS equal parts, the same every time, so figures stay
# comparable), so evaluating every few hundred steps stays cheap on a big corpus.
VAL_LIMIT = 200_000
VAL_SUBSET_SEED = 0


class TextData:
    def __init__(
        self,
        codes: NDArray[np.integer[Any]] | MappedCodes,
        *,
        seq_len: int,
        batch_size: int,
        val_fraction: float,
        device: torch.device,
        seed: int,
        corpus_name: str = "the corpus",
    ) -> None:
        n = len(codes)
        n_val = int(n * val_fraction)
        need = max(seq_len + 1, int(np.ceil((seq_len + 1) / val_fraction)))
        if n_val < seq_len + 1 or n - n_val < seq_len + 1:
            raise CorpusError(
                f"{corpus_name} has {n:,} characters; training with {{seq_len}} {seq_len} and a "
                f"{val_fraction:.0%} validation split needs at least {need:,}: "
                "use a longer text or a smaller {seq_len}",
                names=["seq_len"],
            )
        self.device = device
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.mapped = not isinstance(codes, np.ndarray)
        self.train: torch.Tensor | MappedCodes  # the codes on the device, or in their map
        self.val: torch.Tensor | MappedCodes
        if isinstance(codes, MappedCodes):
            self.train, self.val = codes.part(0, n - n_val), codes.part(n - n_val, n)
            host = torch.device("cpu")  # window starts index the map, on the host
        else:
            # Kept as small integers on the device; widened per batch (200 MB stays 200 MB).
            all_codes = torch.from_numpy(np.ascontiguousarray(codes))
            self.train = all_codes[: n - n_val].to(device)
            self.val = all_codes[n - n_val :].to(device)
            host = device
        self.steps_per_epoch = max(1, (len(self.train) - 1) // (batch_size * seq_len))
        self.offsets = torch.arange(seq_len + 1, device=host)
        self.generator = torch.Generator(device=host)
        self.generator.manual_seed(seed)

    @classmethod
    def for_config(
        cls,
        codes: NDArray[np.integer[Any]] | MappedCodes,
        config: TrainConfig,
        device: torch.device,
        name: str,
    ) -> TextData:
        """Batches as a TrainConfig asks for them."""
        return cls(
            codes,
            seq_len=config.seq_len,
            batch_size=config.batch_size,
            val_fraction=config.val_fraction,
            device=device,
            seed=config.seed,
            corpus_name=name,
        )

    @property
    def train_chars(self) -> int:
        return len(self.train)

    @property
    def val_chars(self) -> int:
        return len(self.val)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets), each (batch, seq_len) int64, drawn on the device without host sync."""
        high = len(self.train) - self.seq_len
        starts = torch.randint(
            0, high, (self.batch_size, 1), device=self.offsets.device, generator=self.generator
        )
        if isinstance(self.train, MappedCodes):
            window = self._read(self.train, starts.flatten(), self.seq_len + 1)
        else:
            window = self.train[starts + self.offsets].long()
        return window[:, :-1], window[:, 1:]

    def _read(self, codes: MappedCodes, starts: torch.Tensor, length: int) -> torch.Tensor:
        """Rows codes[s : s + length] for each start, read from the map, int64 on the device."""
        rows = torch.from_numpy(codes.rows(starts.numpy(), length))
        if self.device.type == "cuda":
            # From pinned memory the copy is asynchronous: the host draws the next batch
            # while the GPU still works on this step.
            return rows.pin_memory().to(self.device, non_blocking=True)
        return rows.to(self.device)

    def rng_state(self) -> torch.Tensor:
        return self.generator.get_state()

    def set_rng_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)

    @property
    def val_scored(self) -> int:
        """How many held-out characters an evaluation scores."""
        return self._val_streams[1].numel()

    @functools.cached_property
    def _val_streams(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets) as VAL_STREAMS rows: the whole held-out text, or its fixed subset."""
        targets_n = len(self.val) - 1
        streams = max(1, min(VAL_STREAMS, targets_n // self.seq_len))
        if targets_n <= VAL_LIMIT:
            length = targets_n // streams
            starts = [i * length for i in range(streams)]
        else:
            part = targets_n // streams
            length = VAL_LIMIT // streams
            rng = np.random.default_rng(VAL_SUBSET_SEED)
            starts = [i * part + int(rng.integers(0, part - length + 1)) for i in range(streams)]
        if isinstance(self.val, MappedCodes):
            rows = self._read(self.val, torch.tensor(starts), length + 1)
            return rows[:, :-1].contiguous(), rows[:, 1:].contiguous()
        index = torch.tensor(starts, device=self.device)[:, None] + torch.arange(
            length, device=self.device
        )
        return self.val[index].long(), self.val[index + 1].long()

    @torch.no_grad()
    def validation_loss(self, model: torch.nn.Module, autocast: Autocast) -> float:
        """Mean cross-entropy over the held-out text (see VAL_LIMIT), in nats per character.

        The text is cut into VAL_STREAMS contiguous streams walked with the state carried, so
        every character is scored (bar fewer than VAL_STREAMS at the end) with its full context.
        """
        x, y = self._val_streams
        was_training = model.training
        model.eval()
        # Apple's MPS has no float64; float32 sums of a few thousand chunk losses are plenty.
        wide = torch.float32 if self.device.type == "mps" else torch.float64
        total = torch.zeros((), device=self.device, dtype=wide)
        state = None
        for start in range(0, x.shape[1], VAL_CHUNK):
            with autocast():
                logits, state = model(x[:, start : start + VAL_CHUNK], state)
            total += F.cross_entropy(
                logits.float().flatten(0, 1),
                y[:, start : start + VAL_CHUNK].flatten(),
                reduction="sum",
            )
        model.train(was_training)
        return total.item() / y.numel()
