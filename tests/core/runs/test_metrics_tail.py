"""Reading metrics.jsonl as it grows: appends, a torn last line, a rewrite, a folder that goes."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from shakespeare_tui.core.runs.history import read_run_history
from shakespeare_tui.core.runs.metrics_tail import MetricsTail
from tests.core.run_folders import evaluation, step


def lines(*records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    return folder


def append(run, text: str) -> None:
    with open(run / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(text)


def test_reads_only_what_was_appended(run):
    append(run, lines(evaluation(0, 4.0, "initial", 0), step(10, speed=900.0)))
    tail = MetricsTail(run)
    first = tail.read()
    assert [r["kind"] for r in first.records] == ["epoch", "step"] and not first.reset
    assert tail.tally.step == 10 and tail.tally.chars_per_sec == 900.0
    assert not tail.read()  # nothing new: nothing parsed, nothing changed
    append(run, lines(step(20), evaluation(20, 3.0), step(30, speed=1100.0)))
    second = tail.read()
    assert [r.get("step") for r in second.records] == [20, 30]  # summary: the last step record
    tally = tail.tally
    assert (tally.progress.best_val_loss, tally.progress.best_step) == (3.0, 20)
    assert tally.step == 30 and tally.chars_per_sec == 1100.0 and tally.elapsed_s == 3.0


def test_a_torn_last_line_waits_for_its_newline(run):
    whole = json.dumps(step(20))
    append(run, lines(step(10)) + whole[:25])
    tail = MetricsTail(run)
    assert [r["step"] for r in tail.read().records] == [10]
    assert tail.torn == 25
    append(run, whole[25:])  # still no newline
    assert not tail.read().records
    append(run, "\n")
    assert [r["step"] for r in tail.read().records] == [20]
    assert tail.torn == 0 and tail.tally.step == 20


def test_a_rewritten_file_is_read_again_from_the_start(run):
    """A resume trims metrics.jsonl and replaces it by a rename: the offset no longer holds."""
    append(run, lines(evaluation(0, 4.0, "initial", 0), step(10), evaluation(10, 2.0)))
    tail = MetricsTail(run)
    tail.read()
    assert tail.tally.progress.best_val_loss == 2.0
    tmp = run / ".metrics.tmp"
    tmp.write_text(lines(evaluation(0, 4.0, "initial", 0), step(10), evaluation(10, 3.5)))
    os.replace(tmp, run / "metrics.jsonl")
    delta = tail.read()
    assert delta.reset and len(delta.records) == 3
    assert tail.tally.progress.best_val_loss == 3.5 and tail.tally.records == 3


def test_a_file_cut_or_rewritten_in_place_is_read_again(run):
    append(run, lines(step(10), step(20), step(30)))
    tail = MetricsTail(run)
    tail.read()
    (run / "metrics.jsonl").write_text(lines(step(10)))  # same inode, shorter
    assert tail.read().reset and tail.tally.step == 10
    (run / "metrics.jsonl").write_text(lines(step(40)) + lines(step(50)))  # longer, new bytes
    assert tail.read().reset and tail.tally.step == 50


def test_a_deleted_or_renamed_folder_is_gone_and_never_raises(run, tmp_path):
    append(run, lines(step(10), evaluation(10, 2.5)))
    tail = MetricsTail(run)
    tail.read()
    moved = tmp_path / "elsewhere"
    run.rename(moved)
    delta = tail.read()
    assert tail.gone and delta.presence and not delta.records
    assert tail.tally.progress.best_val_loss == 2.5  # what was read still stands
    assert not tail.read()  # still gone: no news
    moved.rename(run)  # back again, unchanged: read on
    delta = tail.read()
    assert not tail.gone and delta.presence and not delta.reset
    shutil.rmtree(run)
    assert tail.read().presence and tail.gone


def test_a_missing_file_in_a_live_folder_is_a_run_without_records(run):
    tail = MetricsTail(run)
    assert not tail.read() and not tail.gone and tail.tally.records == 0
    append(run, lines(step(10)))
    tail.read()
    (run / "metrics.jsonl").unlink()
    assert tail.read().reset and tail.tally.records == 0


def test_bad_lines_are_skipped_as_read_metrics_skips_them(run):
    junk = "not json\n\n[1, 2]\n" + "[" * 100_000 + "\n"
    append(run, lines(step(10)) + junk + lines(evaluation(10, 2.0), step(20)))
    summary, full = MetricsTail(run), MetricsTail(run, series=True)
    assert [r.get("step") for r in summary.read().records] == [10, 20]
    assert [r.get("step") for r in full.read().records] == [10, 10, 20]
    assert summary.tally.progress.best_val_loss == full.tally.progress.best_val_loss == 2.0


def test_series_are_kept_once_asked_for_and_grow_with_the_file(run):
    append(run, lines(evaluation(0, 4.0, "initial", 0), step(10, 3.0), step(20, 2.5),
                      evaluation(20, 2.4), step(30, float("nan"))))  # fmt: skip
    tail = MetricsTail(run)
    tail.read()
    tail.chars_per_step = 16 * 32
    series = tail.want_series()
    assert list(series.steps) == [10, 20, 30]
    assert (
        list(series.train_loss)[:2] == [3.0, 2.5] and series.train_loss[2] != series.train_loss[2]
    )
    assert list(series.eval_steps) == [0, 20] and list(series.eval_epochs) == [0, 1]
    assert list(series.val_loss) == [4.0, 2.4]
    assert series.chars_seen(series.steps) == [5120, 10240, 15360]
    append(run, lines(step(40, 2.2), evaluation(40, 2.1)))
    tail.read()
    assert list(tail.series.steps) == [10, 20, 30, 40] and list(tail.series.val_loss)[-1] == 2.1


def test_the_summary_is_the_run_historys(run):
    """One rule: the tail and the whole-file reader count the best and the finish alike."""
    records = [evaluation(0, 4.0, "initial", 0), step(10), evaluation(10, 2.0, "epoch", 1),
               step(20), evaluation(20, 2.2, "epoch", 2),
               {"kind": "finish", "reason": "early-stopped", "step": 20, "epoch": 2,
                "message": "early stop"}]  # fmt: skip
    append(run, lines(*records))
    tail = MetricsTail(run)
    tail.read()
    history = read_run_history(run)
    assert tail.tally.progress == history.progress
    assert tail.tally.finish["reason"] == history.state == "early-stopped"
    append(run, lines(step(30)))  # trained on after the finish: a resume since
    tail.read()
    assert tail.tally.finish is None


TRIALS = 40


def test_read_in_random_pieces_the_summary_is_the_whole_files(run):
    """However the file is cut into appends, and whatever odd lines it holds, skipping step
    records counts the same as parsing everything."""
    import random

    rng = random.Random(3)
    for trial in range(TRIALS):
        parts, n = [], 0
        for _ in range(rng.randint(1, 40)):
            n += 10
            pick = rng.random()
            if pick < 0.5:
                parts.append(json.dumps(step(n, speed=n)) + "\n")
            elif pick < 0.7:
                parts.append(json.dumps(evaluation(n, rng.uniform(1, 3))) + "\n")
            elif pick < 0.8:  # another writer's spacing: parsed, not skipped
                parts.append(json.dumps(evaluation(n, 0.5), separators=(",", ":")) + "\n")
            elif pick < 0.85:
                parts.append(json.dumps({"kind": "finish", "reason": "stopped", "step": n}) + "\n")
            else:  # a line torn mid-file (killed) is no step record
                parts.append(rng.choice(["junk\n", "\n", '{"kind": "step", "st\n']))
        text = "".join(parts)
        (run / "metrics.jsonl").write_text("")
        tail = MetricsTail(run)
        cut = 0
        while cut < len(text):
            nxt = min(len(text), cut + rng.randint(1, 200))
            append(run, text[cut:nxt])
            tail.read()
            cut = nxt
        whole = MetricsTail(run, series=True)
        whole.read()
        a, b = tail.tally, whole.tally
        assert (a.progress, a.step, a.finish, a.chars_per_sec, a.elapsed_s) == (
            b.progress, b.step, b.finish, b.chars_per_sec, b.elapsed_s), trial  # fmt: skip
        assert b.progress == read_run_history(run).progress
        (run / "metrics.jsonl").unlink()


def test_a_long_file_is_parsed_a_few_thousand_lines_a_call(run, monkeypatch):
    """One json.loads over a long run's whole file held the GIL for tens of milliseconds (the
    app could not draw meanwhile): it goes in pieces, and a bad line spoils none of them."""
    from shakespeare_tui.core.runs import metrics_tail

    records = [step(10 * i) for i in range(1, 4501)]
    text = lines(*records[:3000]) + "not json\n" + lines(*records[3000:])
    append(run, text)
    sizes = []
    real = metrics_tail.json.loads

    def counting(data):
        sizes.append(len(data))
        return real(data)

    monkeypatch.setattr(metrics_tail.json, "loads", counting)
    series = MetricsTail(run).want_series()
    assert list(series.steps) == [r["step"] for r in records]
    assert max(sizes) < len(text) / 2
