"""Sizing a run to its time budget: the rule (bigger budgets, bigger models; the memory bound),
the measured table it reads, and a sized run end to end (recorded, shown, resumed exactly)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import threading
from dataclasses import replace

import pytest
import torch

from shakespeare_tui.core.config import SIZED, TrainConfig, build_config, resolve_auto
from shakespeare_tui.core.events import ModelSized, SizingStarted, StepLogged, TrainingStarted
from shakespeare_tui.core.model.estimate import training_bytes, work_per_char
from shakespeare_tui.core.model.network import CharRNN
from shakespeare_tui.core.sizing import ladder as size_ladder
from shakespeare_tui.core.sizing import probe as size_probe
from shakespeare_tui.core.sizing.ladder import Rung
from shakespeare_tui.core.sizing.probe import RungTiming
from shakespeare_tui.core.sizing.rule import choose, predicted_loss, rung_config
from shakespeare_tui.core.training.engine import train

# Three sizes small enough to train in a test, and a made-up table for them.
TINY_LADDER = (
    Rung("a", 8, 16, 1, 0.0, batch_size=4, seq_len=16, lr=1e-2, warmup_steps=0),
    Rung("b", 12, 24, 1, 0.1, batch_size=4, seq_len=16, lr=1e-2, warmup_steps=0),
    Rung("c", 16, 32, 2, 0.1, batch_size=4, seq_len=16, lr=1e-2, warmup_steps=0),
)
TINY_QUALITY = {
    "a": ((1e4, 3.0), (1e5, 2.6)),
    "b": ((1e4, 3.1), (1e5, 2.5)),
    "c": ((1e4, 3.3), (1e5, 2.4)),
}
TINY_SPEEDS = {"a": 4000.0, "b": 2000.0, "c": 1000.0}


@pytest.fixture
def tiny_ladder(monkeypatch):
    monkeypatch.setattr(size_ladder, "LADDER", TINY_LADDER)
    monkeypatch.setattr(size_ladder, "QUALITY", TINY_QUALITY)


def _speeds_by_work(base: float = 60_000.0) -> dict[str, float]:
    """Speeds as a machine would give them: inversely proportional to the work per character."""
    config = replace(TrainConfig(), model=replace(TrainConfig().model, vocab_size=65))
    return {
        r.name: base / work_per_char(rung_config(config, r).model) * 1e6 for r in size_ladder.LADDER
    }


def _config(**overrides) -> TrainConfig:
    config = TrainConfig(max_minutes=10)
    return replace(config, model=replace(config.model, vocab_size=65), **overrides)


# -- the rule -------------------------------------------------------------------------------


def test_the_measured_table_covers_every_rung_smallest_first():
    names = [r.name for r in size_ladder.LADDER]
    assert set(size_ladder.QUALITY) == set(names)
    sizes = [work_per_char(rung_config(_config(), r).model) for r in size_ladder.LADDER]
    assert sizes == sorted(sizes)
    for points in size_ladder.QUALITY.values():
        assert len(points) >= 2
        chars = [c for c, _ in points]
        assert chars == sorted(chars)
        assert all(1.2 < v < 2.5 for _, v in points)


def test_predicted_loss_follows_the_measured_points_and_stays_bounded_beyond_them():
    for name, points in size_ladder.QUALITY.items():
        for chars, val in points:
            assert predicted_loss(name, chars) == pytest.approx(val)
        (c0, v0), (c1, v1) = points[0], points[1]
        middle = predicted_loss(name, (c0 * c1) ** 0.5)
        assert min(v0, v1) <= middle <= max(v0, v1)
        last_c, last_v = points[-1]
        gain = last_v - points[-2][1]
        far = [predicted_loss(name, last_c * 2**k) for k in range(1, 12)]
        assert far == sorted(far, reverse=True) or gain >= 0  # never better with fewer
        assert far[-1] >= last_v + min(gain, 0.0) - 1e-9  # never more than the last gain again
        # Fewer characters than the first point never predict a lower loss than it.
        near = [predicted_loss(name, c0 / 2**k) for k in range(0, 6)]
        assert near == sorted(near)


def test_fewer_characters_below_a_curve_that_overfits_are_not_predicted_better(monkeypatch):
    """A curve measured only where it already overfits (worse at 10 M than at 5 M) must not
    promise a lower loss for 2 M characters than it measured at 5 M."""
    monkeypatch.setattr(size_ladder, "QUALITY", {"s": ((5e6, 1.457), (10e6, 1.466))})
    assert predicted_loss("s", 2e6) >= 1.457
    assert predicted_loss("s", 40e6) == pytest.approx(1.466)


def test_bigger_budgets_choose_bigger_models_up_to_the_largest():
    speeds = _speeds_by_work()
    order = [r.name for r in size_ladder.LADDER]
    chosen = [
        order.index(choose(speeds, _config(), budget_s=m * 60, memory_bytes=None).chosen)
        for m in (1, 2, 5, 10, 20, 60, 240, 1000, 10_000)
    ]
    assert chosen == sorted(chosen)
    assert chosen[0] < chosen[-1]
    assert chosen[-1] == len(order) - 1  # a GPU's budget: the notebook's model


def test_a_faster_machine_chooses_a_model_at_least_as_big():
    for minutes in (5, 10):
        slow = choose(_speeds_by_work(30_000), _config(), budget_s=minutes * 60, memory_bytes=None)
        fast = choose(_speeds_by_work(90_000), _config(), budget_s=minutes * 60, memory_bytes=None)
        order = [r.name for r in size_ladder.LADDER]
        assert order.index(fast.chosen) >= order.index(slow.chosen)


def test_the_choice_never_needs_more_memory_than_it_is_given():
    speeds = _speeds_by_work(10**9)  # so fast that the largest would win
    config = _config()
    needs = sorted(training_bytes(rung_config(config, r)) for r in size_ladder.LADDER)
    for memory in needs:
        sizing = choose(speeds, config, budget_s=3600, memory_bytes=memory)
        assert sizing.fit.training_bytes <= memory
        assert sizing.fit.fits
    roomy = choose(speeds, config, budget_s=3600, memory_bytes=needs[-1])
    assert roomy.chosen == size_ladder.LADDER[-1].name
    squeezed = choose(speeds, config, budget_s=3600, memory_bytes=needs[1])
    assert [f.fits for f in squeezed.fits].count(False) == len(needs) - 2


def test_the_reason_says_the_size_the_characters_and_the_speed():
    sizing = choose(_speeds_by_work(), _config(), budget_s=600, memory_bytes=None, probe_s=4)
    reason = sizing.reason
    assert reason.startswith("sized for 10 min: LSTM E")
    assert "M characters at" in reason and "chars/s on this machine" in reason
    record = sizing.to_dict()
    assert record["chosen"] == sizing.chosen and record["budget_minutes"] == 10
    assert {r["rung"] for r in record["rungs"]} == {r.name for r in size_ladder.LADDER}
    json.dumps(record)  # plain data, for config.json and the checkpoint


def test_auto_with_a_budget_is_sized_and_anything_typed_over_the_model_is_not():
    assert build_config("auto", "cpu", {"max_minutes": 10}).preset == SIZED
    assert build_config("auto", "cuda", {"max_minutes": 5}).preset == SIZED
    assert build_config("auto", "cpu", {}).preset == "cpu"
    assert build_config("cpu", "cpu", {"max_minutes": 10}).preset == "cpu"
    assert build_config("auto", "cpu", {"max_minutes": 10, "hidden": 256}).preset == "custom"
    assert resolve_auto(TrainConfig(max_minutes=3), "cpu").preset == SIZED
    assert resolve_auto(TrainConfig(), "cpu").preset == "cpu"


def test_timing_stops_at_the_memory_bound_once_a_larger_size_does_worse_or_when_asked(
    tiny_ladder, monkeypatch
):
    timed = []

    def fake_speed(config, rung, device, bf16, seconds=0.0, ranks=None):
        timed.append(rung.name)
        return RungTiming(TINY_SPEEDS[rung.name], 1.0)

    monkeypatch.setattr(size_probe, "time_rung", fake_speed)
    config = replace(_config(max_minutes=0.01), preset=SIZED)
    kw = dict(val_chars=1000, train_chars=9000)
    # 0.6 s of a 4,000 chars/s machine: a wins, b is worse, c is not timed.
    sizing = size_probe.size_for_budget(config, torch.device("cpu"), False, memory_bytes=None, **kw)
    assert sizing.chosen == "a" and timed == ["a", "b"]
    timed.clear()
    small = training_bytes(rung_config(config, TINY_LADDER[0]))
    size_probe.size_for_budget(config, torch.device("cpu"), False, memory_bytes=small, **kw)
    assert timed == ["a"]
    # A stop asked for while timing ends the timing at once (the run then stops at step 0).
    timed.clear()
    stop = threading.Event()
    monkeypatch.setattr(
        size_probe,
        "time_rung",
        lambda *a, **k: (timed.append(a[1].name), stop.set())[0] or RungTiming(1e3, 1.0),
    )
    size_probe.size_for_budget(
        config, torch.device("cpu"), False, memory_bytes=None, stop=stop, **kw
    )
    assert timed == ["a"]


# -- a busy machine ------------------------------------------------------------------------

# Five sizes with one recipe (so they time alike) and a made-up table in which each is the best
# for one doubling of the characters trained: a probe fooled by a busy machine (3x or more
# slower by the wall clock) would choose two or more sizes smaller.
SAME = dict(embed=16, hidden=64, layers=1, dropout=0.0, batch_size=8, seq_len=32, lr=1e-2)
BUSY_LADDER = tuple(Rung(name, warmup_steps=0, **SAME) for name in ("v", "w", "x", "y", "z"))


def one_size_a_doubling(center: float) -> dict[str, tuple[tuple[float, float], ...]]:
    """Straight lines in log2(characters): size k is the best between center - 1.5 + (k - 1)
    and center - 1.5 + k doublings, so the middle one wins at 2**center characters. The slopes
    differ by 0.1 a size so that timings of the (same) sizes that differ by up to ~2x do not
    stop the timing early."""
    slope, step = 0.02, 0.1
    table, offset = {}, 0.0
    for k, rung in enumerate(BUSY_LADDER):
        line = [(u, 2.0 - (slope + k * step) * u + offset) for u in (-4.0, 4.0)]
        table[rung.name] = tuple((2 ** (center + u), y) for u, y in line)
        offset += step * (-1.5 + k)
    return table


@contextlib.contextmanager
def busy_loops(count: int):
    """`count` processes spinning on the CPU, each running before this yields."""
    loop = "import sys; sys.stdout.write('.'); sys.stdout.flush()\nwhile True: pass"
    spinners = [
        subprocess.Popen([sys.executable, "-c", loop], stdout=subprocess.PIPE) for _ in range(count)
    ]
    try:
        for spinner in spinners:
            assert spinner.stdout.read(1) == b"."
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


@contextlib.contextmanager
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def busy_ladder_config(monkeypatch):
    """The five sizes, a table centred on what the first of them trains here in 10 minutes
    (timed by its CPU time, whatever else runs), and a 10-minute sized run's settings."""
    monkeypatch.setattr(size_ladder, "LADDER", BUSY_LADDER)
    monkeypatch.setattr(size_probe, "PROBE_S", 0.2)
    config = replace(_config(max_minutes=10), preset=SIZED, bf16=False)
    first = size_probe.time_rung(config, BUSY_LADDER[0], torch.device("cpu"), False, 0.2)
    per_cpu_second = first.chars_per_s  # already corrected if the machine was busy
    monkeypatch.setattr(
        size_ladder, "QUALITY", one_size_a_doubling(math.log2(per_cpu_second * 600))
    )
    return config


def assert_same_size_within_one(calm, busy) -> None:
    names = [r.name for r in BUSY_LADDER]
    seen = f"calm {calm.chosen} ({calm.cpu_share:.0%}), busy {busy.chosen} ({busy.cpu_share:.0%})"
    assert busy.busy, f"the probe got {busy.cpu_share:.0%} of its CPU: {seen}"
    assert "the machine was busy" in busy.reason and f"{busy.cpu_share:.0%}" in busy.reason
    assert abs(names.index(busy.chosen) - names.index(calm.chosen)) <= 1, seen
    # The middle size is the one the first timing chose; the test suite may load the machine
    # while "calm" is timed too, so both must land beside it.
    assert abs(names.index(busy.chosen) - 2) <= 1 and abs(names.index(calm.chosen) - 2) <= 1, seen


class SimulatedCore:
    """`time` as the probe sees it on a core where each of its steps costs STEP_S of CPU time
    and it gets `share` of the core: the wall clock runs 1/share times as fast as its CPU
    time. Deterministic, whatever else the machine runs."""

    STEP_S = 0.01

    def __init__(self, share: float) -> None:
        self.cpu, self.share = 0.0, share

    def thread_time(self) -> float:
        return self.cpu

    process_time = thread_time

    def perf_counter(self) -> float:
        return self.cpu / self.share


def simulated_sizing(monkeypatch, config, share: float):
    """size_for_budget with real steps timed on a SimulatedCore of that share."""
    core = SimulatedCore(share)

    class Timed(CharRNN):
        def forward(self, *args, **kwargs):
            core.cpu += SimulatedCore.STEP_S  # one step's CPU time, as the core would count it
            return super().forward(*args, **kwargs)

    monkeypatch.setattr(size_probe, "CharRNN", Timed)
    monkeypatch.setattr(size_probe, "time", core)
    kw = dict(memory_bytes=None, val_chars=1000, train_chars=10**9)
    return size_probe.size_for_budget(config, torch.device("cpu"), False, **kw)


def test_a_core_shared_three_ways_makes_the_probe_choose_what_an_idle_one_does(monkeypatch):
    """Deterministic: the same steps on a simulated core, all of it and a third of it."""
    monkeypatch.setattr(size_ladder, "LADDER", BUSY_LADDER)
    config = replace(_config(max_minutes=10), preset=SIZED, bf16=False)
    rung = BUSY_LADDER[0]
    idle_speed = rung.batch_size * rung.seq_len / SimulatedCore.STEP_S
    monkeypatch.setattr(size_ladder, "QUALITY", one_size_a_doubling(math.log2(idle_speed * 600)))
    with one_thread():
        calm = simulated_sizing(monkeypatch, config, share=1.0)
        busy = simulated_sizing(monkeypatch, config, share=1 / 3)
    assert not calm.busy and "busy" not in calm.reason
    assert busy.cpu_share == pytest.approx(1 / 3, rel=0.05)
    assert f"{idle_speed:,.0f} chars/s" in calm.reason
    assert f"{idle_speed:,.0f} chars/s" in busy.reason  # the idle core's speed, not a third
    assert calm.chosen == busy.chosen == "x"
    assert_same_size_within_one(calm, busy)


def test_a_busy_machine_does_not_make_the_probe_choose_smaller(monkeypatch):
    """Real busy loops beside the probe, three a core: it gets a quarter of a core or less."""
    kw = dict(memory_bytes=None, val_chars=1000, train_chars=10**9)
    with one_thread():
        config = busy_ladder_config(monkeypatch)
        calm = size_probe.size_for_budget(config, torch.device("cpu"), False, **kw)
        with busy_loops(3 * (os.cpu_count() or 1)):
            busy = size_probe.size_for_budget(config, torch.device("cpu"), False, **kw)
    assert_same_size_within_one(calm, busy)


def test_the_busy_share_is_said_only_when_it_was_low():
    sizing = choose(_speeds_by_work(), _config(), budget_s=600, memory_bytes=None)
    assert not sizing.busy and "busy" not in sizing.reason
    busy = choose(_speeds_by_work(), _config(), budget_s=600, memory_bytes=None, cpu_share=0.3)
    assert busy.busy and "the machine was busy, the timing got 30% of the CPU" in busy.reason
    assert busy.chosen == sizing.chosen  # the share is reported: the speeds given decide


# -- a sized run ----------------------------------------------------------------------------


def _sized_config(corpus, **overrides) -> TrainConfig:
    config = TrainConfig(
        corpus=str(corpus),
        device="cpu",
        threads=1,
        bf16=False,
        max_minutes=60,
        max_steps=30,
        epochs=100,
        patience=100,
        log_every=1,
        sample_length=20,
    )
    return replace(config, **overrides)


def test_a_sized_run_times_the_sizes_records_its_choice_and_says_it(
    tiny_ladder, corpus_file, paths
):
    seen = []
    finished = train(
        _sized_config(corpus_file, max_steps=6), paths, on_event=seen.append, run_name="sized"
    )
    assert finished.reason == "max-steps"
    kinds = [type(e) for e in seen]
    assert kinds.index(SizingStarted) < kinds.index(ModelSized) < kinds.index(TrainingStarted)
    started = next(e for e in seen if isinstance(e, TrainingStarted))
    assert started.sizing_reason.startswith("sized for 60 min: LSTM ")
    assert started.sizing_reason in started.notes
    saved = json.loads((paths.runs / "sized" / "config.json").read_text())["train"]
    sizing = saved["sizing"]
    chosen = size_ladder.rung(sizing["chosen"])
    assert saved["preset"] == SIZED
    assert (saved["model"]["embed"], saved["model"]["hidden"]) == (chosen.embed, chosen.hidden)
    assert (saved["batch_size"], saved["seq_len"]) == (chosen.batch_size, chosen.seq_len)
    assert started.model_summary.endswith(chosen.summary)
    timed = [r for r in sizing["rungs"] if r["chars_per_s"]]
    assert timed and all(r["chars_per_s"] > 0 for r in timed)
    # The seconds spent timing count in the budget.
    first = next(e for e in seen if isinstance(e, StepLogged))
    assert sizing["probe_s"] > 0 and first.elapsed_s >= sizing["probe_s"]


def test_a_sized_run_resumes_exactly_with_its_own_size(
    tiny_ladder, monkeypatch, corpus_file, tmp_path
):
    monkeypatch.setattr(
        size_probe, "time_rung", lambda config, rung, *a, **k: RungTiming(TINY_SPEEDS[rung.name], 1)
    )
    from shakespeare_tui.core.paths import Paths

    ref = Paths.resolve(tmp_path / "ref").ensure()
    train(_sized_config(corpus_file), ref, run_name="r")
    home = Paths.resolve(tmp_path / "cut").ensure()
    stop = threading.Event()

    def on_event(event):
        if isinstance(event, StepLogged) and event.step == 12:
            stop.set()

    first = train(_sized_config(corpus_file), home, run_name="r", on_event=on_event, stop=stop)
    assert first.reason == "stopped" and first.step == 12

    def no_timing(*a, **k):
        raise AssertionError("a resumed run keeps its size: nothing is timed again")

    monkeypatch.setattr(size_probe, "time_rung", no_timing)
    seen = []
    done = train(None, home, resume=first.last_checkpoint, on_event=seen.append)
    assert done.reason == "max-steps" and done.step == 30
    assert not any(isinstance(e, SizingStarted) for e in seen)
    started = next(e for e in seen if isinstance(e, TrainingStarted))
    assert started.resumed and started.sizing_reason.startswith("sized for 60 min")
    for name in ("last.pt", "best.pt"):
        got = torch.load(home.runs / "r" / name, weights_only=True)["weights"]
        want = torch.load(ref.runs / "r" / name, weights_only=True)["weights"]
        assert got.keys() == want.keys()
        assert all(torch.equal(got[k], want[k]) for k in want), name


def test_a_short_budget_fits_its_schedule_to_the_steps_it_will_take():
    """5 minutes of 0.21 s steps, a 3.7 s evaluation every 200: ~1,260 steps fit. Charging
    the evaluations of the whole planned run (12,540 steps, 62 evaluations) instead once
    fitted the decay into ~330 steps, and the run crawled at a tenth of its rate after."""
    from shakespeare_tui.core.training.schedule import fitted_steps

    fits = fitted_steps(
        step=25,
        planned=12_540,
        remaining_s=295.0,
        seconds_per_step=0.21,
        steps_per_evaluation=200,
        validation_s=3.7,
    )
    assert 1_200 < fits < 1_300


@contextlib.contextmanager
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("others", [0.0, 1.0])
def test_two_threads_read_how_busy_the_machine_is_from_what_others_took(monkeypatch, others):
    """Two threads on two cores whose steps take one core's time between them (the second
    waits inside each small step): on an idle machine (others 0) the speed is the wall clock's
    and nothing is called busy (its own CPU time said "50%: busy" and doubled the speed); with
    another process taking a whole core (others 1) the speed is scaled up by what it took."""
    core = SimulatedCore(share=0.5)  # this process's CPU time is half its two threads' wall

    class Timed(CharRNN):
        def forward(self, *args, **kwargs):
            core.cpu += SimulatedCore.STEP_S
            return super().forward(*args, **kwargs)

    monkeypatch.setattr(size_probe, "CharRNN", Timed)
    monkeypatch.setattr(size_probe, "time", core)
    monkeypatch.setattr(size_probe.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(
        size_probe, "machine_busy_s", lambda: core.cpu + others * core.perf_counter()
    )
    config = replace(_config(max_minutes=10), bf16=False)
    rung = BUSY_LADDER[0]
    with two_threads():
        timing = size_probe.time_rung(config, rung, torch.device("cpu"), False, seconds=0.1)
    wall_speed = rung.batch_size * rung.seq_len / (SimulatedCore.STEP_S / 0.5)
    if others == 0.0:
        assert timing.cpu_share == pytest.approx(1.0)
        assert timing.chars_per_s == pytest.approx(wall_speed, rel=0.01)
    else:
        assert timing.cpu_share == pytest.approx(0.5, rel=0.02)
        assert timing.chars_per_s == pytest.approx(2 * wall_speed, rel=0.05)
