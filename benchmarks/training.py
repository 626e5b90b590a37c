"""Training speed: our engine's step against a plain PyTorch loop and the notebook's per-timestep loop.

Three (optionally four) contenders train the same model on the same batches, interleaved:

- "engine step": the engine's own training step, `core.training.engine.TrainingStep` (the
  object every run trains with: `TextData.batch()`, forward under the engine's autocast,
  `logits.float()`, cross-entropy, `zero_grad(set_to_none=True)`, backward, `clip_grad_norm_`,
  Adam), on a `CharRNN`, driven as the engine's loop drives it: `learning_rate` before each
  step, the loss summed on the device and read once per `log_every` steps;
- "plain nn.LSTM loop": the idiomatic loop — Embedding → nn.LSTM → Linear, cross-entropy,
  backward, Adam step; nothing else;
- "per-timestep LSTMCell": the same model stepped through time in Python with `nn.LSTMCell`,
  as the notebook's Flux model is called once per time step;
- "engine train()" (not with --quick): `core.training.engine.train` itself, speed from its StepLogged
  events (which leave out validation and checkpoints): proves the "engine step" row is the engine.

Every round also times a GEMM to measure the machine's peak, so utilisation is against the peak
of that moment. FLOPs per character: 6 × the weights in matrix products (forward 2, backward 4);
the embedding is a lookup, not a product, and counts as nothing.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import (
    Table,
    Targets,
    bench_text,
    fmt,
    interleave,
    median,
    ratios,
    spread,
    sync,
    timed,
)
from shakespeare_tui.core import device as devices
from shakespeare_tui.core.cells import WEIGHT_BLOCKS
from shakespeare_tui.core.config import ModelConfig, TrainConfig, apply_preset
from shakespeare_tui.core.events import StepLogged
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.paths import Paths
from shakespeare_tui.core.text.batches import TextData
from shakespeare_tui.core.text.corpus import Corpus, checksum_of
from shakespeare_tui.core.text.vocab import Vocabulary
from shakespeare_tui.core.training.engine import (
    TrainingStep,
    autocast_for,
    learning_rate,
    train,
)

MODELS = ("notebook", "cpu")  # presets whose models we time


def matmul_params(model: ModelConfig) -> int:
    """Weights that take part in matrix products, per character (biases and the embedding not)."""
    blocks = WEIGHT_BLOCKS[model.cell]
    total, width_in = model.hidden * model.vocab_size, model.embed
    for _ in range(model.layers):
        total += blocks * model.hidden * (width_in + model.hidden)
        width_in = model.hidden
    return total


def train_flops_per_char(model: ModelConfig) -> int:
    return 6 * matmul_params(model)


# ------------------------------------------------------------------ the contenders


class EngineStep:
    """The engine's own `TrainingStep`, driven as the engine's loop drives it (one process,
    so no DDP wrapper and no collective)."""

    name = "engine step"

    def __init__(self, config: TrainConfig, codes, device, bf16: bool, seed: int):
        self.config, self.device = config, device
        self.data = TextData.for_config(codes, replace(config, seed=seed), device, "the corpus")
        torch.manual_seed(seed)
        self.model = CharRNN(config.model).to(device).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.step = TrainingStep(
            net=self.model,
            model=self.model,
            optimizer=self.optimizer,
            data=self.data,
            clip=config.clip,
            vocab_size=config.model.vocab_size,
            autocast=autocast_for(device, bf16),
        )
        self.pending = torch.zeros((), device=device)
        self.step_no = 0

    def run(self, steps: int) -> float:
        config = self.config

        def go():
            for _ in range(steps):
                self.pending += self.step(learning_rate(config, self.step_no, 10_000))
                self.step_no += 1
                if self.step_no % config.log_every == 0:
                    self.pending.item()
                    self.pending.zero_()

        return steps * config.batch_size * config.seq_len / timed(go, self.device)


class _Plain(nn.Module):
    def __init__(self, m: ModelConfig):
        super().__init__()
        self.embed = nn.Embedding(m.vocab_size, m.embed)
        self.lstm = nn.LSTM(m.embed, m.hidden, batch_first=True)
        self.drop = nn.Dropout(m.dropout)
        self.head = nn.Linear(m.hidden, m.vocab_size)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.head(self.drop(out))


class _Cells(nn.Module):
    """The notebook's way: the cell called once per time step."""

    def __init__(self, m: ModelConfig):
        super().__init__()
        self.embed = nn.Embedding(m.vocab_size, m.embed)
        self.cell = nn.LSTMCell(m.embed, m.hidden)
        self.drop = nn.Dropout(m.dropout)
        self.head = nn.Linear(m.hidden, m.vocab_size)

    def forward(self, x):
        emb = self.embed(x)
        h = c = emb.new_zeros(x.shape[0], self.cell.hidden_size)
        outs = []
        for t in range(x.shape[1]):
            h, c = self.cell(emb[:, t], (h, c))
            outs.append(h)
        return self.head(self.drop(torch.stack(outs, dim=1)))


class PlainLoop:
    """A textbook loop over the same batches (drawn before the clock starts)."""

    name = "plain nn.LSTM loop"
    module = _Plain

    def __init__(self, config: TrainConfig, codes, device, bf16: bool, seed: int):
        self.config, self.device, self.bf16 = config, device, bf16
        self.data = TextData.for_config(codes, replace(config, seed=seed), device, "the corpus")
        torch.manual_seed(seed)
        reference = CharRNN(config.model)
        self.model = self.module(config.model)
        self._copy_weights(reference)
        self.model.to(device).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)

    def _copy_weights(self, ref: CharRNN) -> None:
        with torch.no_grad():
            self.model.embed.weight.copy_(ref.embed.weight)
            self.model.head.load_state_dict(ref.head.state_dict())
            rnn = self.model.lstm if hasattr(self.model, "lstm") else self.model.cell
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                suffix = "_l0" if isinstance(rnn, nn.LSTM) else ""
                getattr(rnn, name + suffix).copy_(getattr(ref.rnn, name + "_l0"))

    def run(self, steps: int) -> float:
        batches = [self.data.batch() for _ in range(steps)]
        vocab_size = self.config.model.vocab_size

        def autocast():
            if not self.bf16:
                return contextlib.nullcontext()
            return torch.autocast(self.device.type, dtype=torch.bfloat16)

        def go():
            for inputs, targets in batches:
                with autocast():  # the AMP recipe: forward and loss inside
                    logits = self.model(inputs)
                    loss = F.cross_entropy(logits.view(-1, vocab_size), targets.reshape(-1))
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()

        return steps * self.config.batch_size * self.config.seq_len / timed(go, self.device)


class CellLoop(PlainLoop):
    name = "per-timestep LSTMCell"
    module = _Cells


class EngineTrain:
    """`core.training.engine.train` itself, a short run per round; chars/s from its StepLogged events."""

    name = "engine train()"

    def __init__(self, config: TrainConfig, text: str, device, bf16: bool, seed: int):
        self.config = replace(
            config,
            device=str(device),
            bf16=bf16,
            seed=seed,
            log_every=1,
            sample_length=0,
            val_fraction=0.02,  # validation is not timed; keep it short
            threads=torch.get_num_threads() if device.type == "cpu" else None,
        )
        self.corpus = Corpus(name="bench", text=text, checksum=checksum_of(text), source="bench")
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-train-")
        self.paths = Paths.resolve(self.tmp.name)
        self.runs = 0

    def run(self, steps: int) -> float:
        warm = 2
        speeds: list[float] = []

        def on_event(event):
            if isinstance(event, StepLogged) and event.step > warm:
                speeds.append(event.chars_per_sec)

        self.runs += 1
        train(
            replace(self.config, max_steps=warm + steps),
            self.paths,
            on_event=on_event,
            run_name=f"r{self.runs}",
            corpus=self.corpus,
        )
        return median(speeds)


# ------------------------------------------------------------------ the machine's peak


class Peak:
    """GFLOP/s of one big GEMM: oneDNN (mkldnn Linear on an mkldnn tensor), torch.matmul, bf16."""

    def __init__(self, device, n: int):
        self.device, self.n = device, n
        torch.manual_seed(0)
        self.x = torch.randn(n, n, device=device)
        self.linear = nn.Linear(n, n, bias=False).to(device).eval()
        self.kernels = {}
        with torch.no_grad():
            if device.type == "cpu" and torch.backends.mkldnn.is_available():
                from torch.utils import mkldnn

                fp32 = mkldnn.to_mkldnn(self.linear)
                x32 = self.x.to_mkldnn()
                self.kernels["oneDNN fp32"] = lambda: fp32(x32)
                if devices.bf16_is_fast(device):
                    bf = mkldnn.to_mkldnn(self.linear, torch.bfloat16)
                    xbf = self.x.to_mkldnn(torch.bfloat16)
                    self.kernels["oneDNN bf16"] = lambda: bf(xbf)
            w = self.linear.weight
            label = "matmul fp32" + (" (TF32)" if device.type == "cuda" else " (MKL)")
            self.kernels[label] = lambda: torch.matmul(self.x, w.T)
            wb, xb = w.bfloat16(), self.x.bfloat16()
            if devices.bf16_is_fast(device):
                self.kernels["matmul bf16"] = lambda: torch.matmul(xb, wb.T)
        for kernel in self.kernels.values():  # first calls build primitives
            with torch.no_grad():
                kernel()
        sync(device)

    def measure(self, name: str, calls: int = 3) -> float:
        flops = 2 * self.n**3
        kernel = self.kernels[name]
        with torch.no_grad():
            return flops / 1e9 / median([timed(kernel, self.device) for _ in range(calls)])


# ------------------------------------------------------------------ the section


def run_training(args, device, targets: Targets) -> None:
    quick = args.quick
    cuda = device.type == "cuda"
    rounds = args.rounds or (3 if quick else 5)
    text, source = bench_text(300_000, args.corpus)
    vocab = Vocabulary.from_text(text)
    codes = vocab.encode(text)
    peak = Peak(device, 8192 if cuda else 2048)
    peak_names = list(peak.kernels)
    peak_rows: dict[str, list[float]] = {name: [] for name in peak_names}
    fp32_peak_name = next(n for n in peak_names if "fp32" in n)
    fp32_peak_name = "oneDNN fp32" if "oneDNN fp32" in peak_names else fp32_peak_name
    bf16_peak_name = next((n for n in peak_names if n.startswith("oneDNN bf16")), None)
    bf16_peak_name = bf16_peak_name or next((n for n in peak_names if "bf16" in n), None)

    precisions = [False, True] if devices.bf16_is_fast(device) else [False]
    if args.precision != "both":
        precisions = [args.precision == "bf16"]
    engine_bf16 = devices.bf16_is_fast(device)
    for preset in args.models:
        config = apply_preset(TrainConfig(device=str(device)), preset)
        config = replace(config, model=replace(config.model, vocab_size=len(vocab)))
        m = config.model
        flops_char = train_flops_per_char(m)
        if cuda:
            steps = 10 if quick else 25
        else:
            steps = (2 if quick else 3) if m.hidden >= 1024 else (3 if quick else 6)
        for bf16 in precisions:
            label = "bf16 autocast" if bf16 else "fp32"
            contenders = [
                EngineStep(config, codes, device, bf16, seed=1),
                PlainLoop(config, codes, device, bf16, seed=1),
                CellLoop(config, codes, device, bf16, seed=1),
            ]
            if not quick and not args.no_e2e:
                contenders.append(EngineTrain(config, text, device, bf16, seed=1))
            for c in contenders:  # warm-up: oneDNN primitives, allocator, autocast caches
                if not isinstance(c, EngineTrain):
                    c.run(1)
            calls = {c.name: (lambda c=c, n=steps: c.run(n)) for c in contenders}
            for name in peak_names:
                calls["peak: " + name] = lambda name=name: peak.measure(name)
            t0 = time.perf_counter()
            res = interleave(calls, rounds)
            wall = time.perf_counter() - t0
            for name in peak_names:
                peak_rows[name] += res["peak: " + name]
            ours = res["engine step"]
            p32 = res["peak: " + fp32_peak_name]
            pbf = res.get("peak: " + bf16_peak_name) if bf16_peak_name else None
            headers = ["contender", "chars/s (median)", "min–max", "engine step ÷ it"]
            headers += ["GFLOP/s", f"% of {fp32_peak_name} peak"]
            if bf16 and pbf:
                headers.append(f"% of {bf16_peak_name} peak")
            table = Table(
                f"Training: {preset} preset ({m.summary}, batch {config.batch_size} × "
                f"{config.seq_len}, dropout {m.dropout:g}), {label}, {device}",
                *headers,
            )
            for c in contenders:
                speeds = res[c.name]
                flops = [s * flops_char / 1e9 for s in speeds]
                row = [
                    c.name,
                    fmt(median(speeds)),
                    spread(speeds),
                    "1" if c.name == "engine step" else f"{ratios(ours, speeds):.2f}×",
                    fmt(median(flops), 1),
                    f"{100 * ratios(flops, p32):.0f}%",
                ]
                if bf16 and pbf:
                    row.append(f"{100 * ratios(flops, pbf):.0f}%")
                table.add(*row)
            table.note(
                f"{rounds} rounds × {steps} steps per contender, interleaved ({wall:.0f} s); "
                f"{flops_char / 1e6:.1f} MFLOP per character trained; text: {source}"
            )
            if bf16 != engine_bf16:
                table.note(
                    f"the engine's default here is {'bf16' if engine_bf16 else 'fp32'} "
                    "(`--bf16/--no-bf16` chooses)"
                )
            table.print()
            if m.hidden >= 1024:
                r_plain = ratios(ours, res["plain nn.LSTM loop"])
                r_cell = ratios(ours, res["per-timestep LSTMCell"])
                targets.add(
                    f"H1024 {label}: engine step ≥ 0.95× plain loop",
                    f"{r_plain:.2f}×",
                    r_plain >= 0.95,
                )
                targets.add(
                    f"H1024 {label}: engine step ≥ 2.5× per-timestep loop",
                    f"{r_cell:.2f}×",
                    r_cell >= 2.5,
                )

    table = Table(
        f"GEMM peak ({peak.n}×{peak.n}×{peak.n}, {torch.get_num_threads()} threads), "
        "timed in every training round",
        "kernel",
        "GFLOP/s (median)",
        "min–max",
    )
    for name in peak_names:
        table.add(name, fmt(median(peak_rows[name]), 1), spread(peak_rows[name]))
    if not cuda:
        table.note(
            "oneDNN fp32 is the reference for utilisation (torch.matmul goes through MKL, "
            "slower than oneDNN on some AMD CPUs and as fast on Intel ones, as "
            "benchmarks/RESULTS.md says; compare the two fp32 rows here)"
        )
    table.print()
