"""Chunking a stream of sampled characters, and pacing it to what its consumer can draw."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shakespeare_tui.core.sampling import streaming
from shakespeare_tui.core.sampling.streaming import Pacer, chunked


@dataclass
class Sampled:
    char: str
    probability: float = 0.5


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_chunks_come_at_the_interval_asked_after_each_chunk(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(streaming.time, "monotonic", clock)
    intervals = iter([0.5, 0.5] + [0.25] * 10)

    def samples():
        for i in range(20):
            clock.now = i * 0.125  # a character every 1/8 s
            yield Sampled("abcdefghijklmnopqrst"[i])

    chunks = [text for text, _ in chunked(samples(), seconds=lambda: next(intervals))]
    assert chunks[0] == "a"  # the first character at once
    assert chunks[1:3] == ["bcde", "fghi"]  # then every 0.5 s
    assert chunks[3:] == ["jk", "lm", "no", "pq", "rs", "t"]  # every 0.25 s, the rest at the end
    assert "".join(chunks) == "abcdefghijklmnopqrst"


@pytest.mark.parametrize(
    ("cost", "settles_at"),
    [
        (0.003, 0.1),  # cheap to draw: as often as allowed
        (0.012, 0.2),  # 12 ms a chunk at a 6% share: every 0.2 s
        (0.050, 0.5),  # very dear: never less often than the longest interval
    ],
)
def test_the_pacer_keeps_the_consumers_share(cost, settles_at):
    cpu, clock = Clock(), Clock()
    pacer = Pacer(0.1, 0.5, share=0.06, cpu=cpu, clock=clock)
    for _ in range(40):  # a chunk arrives every `seconds`; handling it costs `cost` of CPU
        pacer.consumed()
        clock.now += pacer.seconds
        cpu.now += cost
    assert pacer.seconds == pytest.approx(settles_at, rel=0.02)


def test_one_slow_chunk_slows_the_stream_only_for_a_while():
    cpu, clock = Clock(), Clock()
    pacer = Pacer(0.1, 0.5, share=0.06, cpu=cpu, clock=clock)
    for cost in [0.003] * 5 + [0.1] + [0.003] * 8:
        pacer.consumed()
        clock.now += pacer.seconds
        cpu.now += cost
    assert pacer.seconds == pytest.approx(0.1)
