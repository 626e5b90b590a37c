"""The Generate view driven with Textual's pilot on a tiny checkpoint trained in a fixture."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Input

from shakespeare_tui.core.paths import Paths
from shakespeare_tui.messages import GenerationChunk, GenerationFinished
from shakespeare_tui.settings import GenerateSettings
from shakespeare_tui.views.generate.generated_text import PROMPT, GeneratedText
from shakespeare_tui.views.generate.output_pane import OutputPane
from shakespeare_tui.widgets.checkpoint_picker import CheckpointPicker
from shakespeare_tui.widgets.text_pane import wrap_rows
from tests.app.generate_fixtures import SIZE, add_run, generate_app, output_of, ready, set_field
from tests.app.harness import settle, wait_for

pytestmark = [pytest.mark.usefixtures("no_bundled"), pytest.mark.heavy(45)]


async def test_generation_streams_in_chunks(home):
    chunks = []

    def hook(message):
        if isinstance(message, GenerationChunk):
            chunks.append(message)

    settings = GenerateSettings(length=20_000, seed="7")
    app = generate_app(Paths.resolve(home), settings)
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        assert picker.selected_entry.key == str(home / "runs" / "t" / "best.pt")
        await pilot.press("g")
        await settle(pilot)
        text = output_of(screen).text
        assert len(text) == 20_000
        assert len(chunks) > 3, "the text should arrive in several chunks"
        assert len(chunks) < len(text) / 20, "not one message per character"
        assert "".join(c.chars for c in chunks) == text
        assert all(len(c.chars) == len(c.probabilities) for c in chunks)
        assert "seed 7" in str(screen.query_one("#generate-status").render())
        assert not app.notes


async def test_same_seed_gives_the_same_text_as_the_cli(home, capsys):
    from shakespeare_tui import cli

    checkpoint = home / "runs" / "t" / "best.pt"
    settings = GenerateSettings(
        checkpoint=str(checkpoint), temperature=0.9, top_k=12, length=300, prompt="Shall I"
    )
    app = generate_app(Paths.resolve(home), settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        set_field(screen, "seed", "1234")
        await pilot.press("g")
        await settle(pilot)
        first = output_of(screen).text
        await pilot.press("g")
        await settle(pilot)
        second = output_of(screen).text
    assert first == second
    assert first.startswith("Shall I") and len(first) == len("Shall I") + 300
    capsys.readouterr()
    code = cli.main(
        [
            "--data-dir",
            str(home),
            "generate",
            "--checkpoint",
            str(checkpoint),
            "--seed",
            "1234",
            "--temperature",
            "0.9",
            "--top-k",
            "12",
            "--length",
            "300",
            "--prompt",
            "Shall I",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == first + "\n"


async def test_random_seed_is_shown_and_can_be_reused(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=200))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        await settle(pilot)
        first = output_of(screen).text
        seed = screen.query_one(OutputPane).last_seed
        assert seed is not None
        assert f"seed {seed}" in str(screen.query_one("#generate-status").render())
        await pilot.press("r")  # puts the seed into the field
        assert screen.query_one("#seed", Input).value == str(seed)
        assert screen.settings.seed == str(seed)
        await pilot.press("g")
        await settle(pilot)
        assert output_of(screen).text == first


async def test_the_seed_field_names_the_last_random_seed(home):
    """The output pane draws the seed; the form's seed field, left blank, says which it was."""
    app = generate_app(Paths.resolve(home), GenerateSettings(length=50))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        field = screen.query_one("#seed", Input)
        assert field.placeholder == "random"
        for _ in range(2):  # a new seed each time, and the field follows
            await pilot.press("g")
            await settle(pilot)
            seed = screen.query_one(OutputPane).last_seed
            assert field.placeholder == f"random (last: {seed})"
            assert field.value == ""


@pytest.mark.parametrize("value", ["-1", "abc", "2.5"])
async def test_invalid_temperature_is_refused(home, value):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=100))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        set_field(screen, "temperature", value)
        await pilot.pause()
        error = screen.query_one("#temperature-error")
        assert error.display and str(error.render()).strip()  # the reason, beside the field
        await pilot.press("g")
        await settle(pilot)
        assert any(note.startswith("Cannot generate: Temperature") for note in app.notes)
        assert output_of(screen).text == ""
        assert screen.query_one(OutputPane).worker is None
        assert screen.settings.temperature == 0.8  # the last valid value is what is remembered


async def test_prompt_outside_the_vocabulary_names_the_characters(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=100))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        set_field(screen, "prompt", "Zebra [%]")
        await pilot.press("g")
        await settle(pilot)
        assert any("'Z'" in n and "'['" in n and "'%'" in n for n in app.notes), app.notes
        assert output_of(screen).text == ""


@pytest.mark.parametrize("key", ["g", "escape"])
async def test_g_again_or_escape_stops_mid_stream(home, key):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=100_000, seed="3"))
    finished = []

    def hook(message):
        if isinstance(message, GenerationFinished):
            finished.append(message)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: len(output_of(screen)) > 0, 30, "the first characters")
        assert screen.generating
        status = screen.query_one("#generate-status")
        await wait_for(  # how far a long stream is
            pilot, lambda: " of 100,000 · seed 3" in str(status.render()), 30, "the count"
        )
        assert " of 100,000 · seed 3" in str(status.render())
        await pilot.press(key)
        await settle(pilot)
        assert not screen.generating
        assert 0 < len(output_of(screen).text) < 100_000
        assert finished and finished[-1].stopped
        assert "stopped after" in str(screen.query_one("#generate-status").render())


async def test_corrupt_checkpoint_is_marked_and_refused(home):
    bad = home / "runs" / "bad"
    bad.mkdir()
    (bad / "best.pt").write_bytes(os.urandom(2000))
    config = json.loads((home / "runs" / "t" / "config.json").read_text())
    config["created"] = "2000-01-01T00:00:00+00:00"  # the oldest run: listed last
    (bad / "config.json").write_text(json.dumps(config))
    app = generate_app(Paths.resolve(home), GenerateSettings(length=50))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        titles = [e.title for e in picker.entries]
        assert titles == ["t · best", "t · last", "bad · best"]
        entry = picker.entries[2]
        assert not entry.ok and entry.details.startswith("⚠ unreadable:")
        assert "⚠ unreadable" in str(picker.get_option_at_index(2).prompt)
        picker.highlighted = 2
        await pilot.press("g")
        await settle(pilot)
        assert any("unreadable" in note for note in app.notes)
        assert output_of(screen).text == ""
        picker.highlighted = 0  # the app carries on
        await pilot.press("g")
        await settle(pilot)
        assert len(output_of(screen).text) == 50


async def test_file_broken_after_the_scan_is_reported(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=50))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        (home / "runs" / "t" / "best.pt").write_bytes(b"PK\x03\x04 truncated")
        await pilot.press("g")
        await settle(pilot)
        assert any("not a complete checkpoint" in note for note in app.notes), app.notes
        assert "not generated" in str(screen.query_one("#generate-status").render())


async def test_refresh_finds_a_new_run_and_keeps_the_selection(home):
    app = generate_app(Paths.resolve(home), GenerateSettings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        assert len(picker.entries) == 2
        picker.highlighted = 1  # t · last
        await pilot.pause()
        new = home / "runs" / "u"
        shutil.copytree(home / "runs" / "t", new)
        config = json.loads((new / "config.json").read_text())
        config["created"] = "2999-01-01T00:00:00+00:00"  # the newest run: listed first
        (new / "config.json").write_text(json.dumps(config))
        screen.refresh_checkpoints()
        await settle(pilot)
        assert [e.title for e in picker.entries] == ["u · best", "u · last", "t · best", "t · last"]
        assert picker.selected_entry.title == "t · last"
        assert screen.settings.checkpoint == str(home / "runs" / "t" / "last.pt")


async def test_no_checkpoints_is_explained(tmp_path):
    app = generate_app(Paths.resolve(tmp_path).ensure(), GenerateSettings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        assert any("no checkpoint" in note for note in app.notes)
        assert output_of(screen).text == ""


async def test_keys_nudge_temperature_and_escape_leaves_a_field(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=50))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("right_square_bracket", "right_square_bracket", "plus")
        assert screen.query_one("#temperature", Input).value == "1.1"
        await pilot.press("left_square_bracket", "minus")
        assert screen.query_one("#temperature", Input).value == "0.9"
        assert screen.settings.temperature == 0.9
        prompt = screen.query_one("#prompt", Input)
        prompt.focus()
        await pilot.press("g", "r", "[")  # typing, not commands
        assert prompt.value == "gr["
        assert screen.query_one(OutputPane).worker is None
        await pilot.press("escape")
        assert not isinstance(screen.focused, Input)
        assert screen.settings.prompt == "gr["


async def test_colour_toggle_and_save(home):
    settings = GenerateSettings(length=300, seed="5", prompt="Sh")
    app = generate_app(Paths.resolve(home), settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        await settle(pilot)
        output = output_of(screen)
        probs = output.probabilities
        assert probs[:2] == [PROMPT, PROMPT]
        assert all(0 < p <= 1 for p in probs[2:])
        plain = output.render_line(0)
        await pilot.press("c")
        assert output.colour_by_probability and settings.colour_by_probability
        coloured = output.render_line(0)
        assert coloured.text == plain.text
        assert {s.style.color for s in coloured if s.text.strip() and s.style.color} - {
            s.style.color for s in plain if s.style
        }
        await pilot.press("ctrl+s")
        saved = list((home / "samples").glob("*.txt"))
        assert len(saved) == 1
        written = saved[0].read_text(encoding="utf-8")
        assert written.startswith("# shakespeare-tui") and written.endswith(output.text + "\n")
        assert any(str(saved[0]) in note for note in app.notes)


def test_wrapping_breaks_after_spaces_and_hard_breaks_long_words():
    """The rule both text panes wrap by (widgets/text_pane.py)."""
    assert wrap_rows("short", 10) == [0]
    assert wrap_rows("aaaa bbbb cccc", 10) == [0, 10]
    assert wrap_rows("abcdefghijkl", 5) == [0, 5, 10]
    assert wrap_rows("to be\nor not", 10) == [0, 6]  # a newline ends its row


async def test_generated_text_appends_across_lines():
    class One(App):
        def compose(self):
            yield GeneratedText()

    async with One().run_test(size=(20, 6)) as pilot:
        widget = pilot.app.query_one(GeneratedText)
        widget.append("Hi")
        widget.append(" there\nsecond", [0.5] * 13)
        widget.append(" line which is long\n", [0.9] * 20)
        await pilot.pause()
        assert widget.text == "Hi there\nsecond line which is long\n"
        assert len(widget) == len(widget.text)
        assert len(widget.probabilities) == len(widget.text) - 2  # not the newlines
        assert widget.virtual_size.height >= 4
        widget.text_select_all()
        await pilot.pause()
        selected = pilot.app.screen.get_selected_text()
        assert selected.replace("\n", "").replace(" ", "") == widget.text.replace("\n", "").replace(
            " ", ""
        )
        widget.render_line(0)  # renders with the selection highlighted
        widget.clear()
        assert widget.text == "" and len(widget) == 0


async def test_the_app_shows_the_generate_view_and_generates(home):
    from shakespeare_tui.app import make_app
    from shakespeare_tui.settings import AppSettings

    def no_training(*args, **kwargs):
        raise AssertionError("this test does not train")

    def probe():
        return ("CPU · 2 threads", "cpu")

    settings = AppSettings(generate=GenerateSettings(length=120, seed="9", prompt="Shall"))
    app = make_app(Paths.resolve(home), trainer=no_training, settings=settings, probe=probe)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.app.run_action("show_view('generate')")
        screen = await ready(pilot)
        assert app.current_mode == "generate"
        await pilot.press("g")
        await settle(pilot)
        text = output_of(screen).text
        assert text.startswith("Shall") and len(text) == len("Shall") + 120
        await pilot.press("c", "right_square_bracket")
    assert settings.generate.colour_by_probability
    assert settings.generate.temperature == 0.9
    assert settings.generate.checkpoint == str(home / "runs" / "t" / "best.pt")


def test_the_view_imports_without_torch():
    import subprocess

    code = (
        "import sys, shakespeare_tui.views.generate.screen\n"
        "assert 'torch' not in sys.modules, 'torch imported at start-up'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_quitting_mid_stream_ends_the_worker_thread(home, monkeypatch):
    import threading

    from shakespeare_tui.core.sampling import sampler as sampling

    ended = threading.Event()
    real = sampling.generate

    def tracked(*args, **kwargs):
        try:
            yield from real(*args, **kwargs)
        finally:
            ended.set()

    monkeypatch.setattr(sampling, "generate", tracked)
    app = generate_app(Paths.resolve(home), GenerateSettings(length=100_000))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: len(output_of(screen)) > 0, 30, "the first characters")
        worker = screen.query_one(OutputPane).worker
        assert screen.generating
    assert worker.cancelled_event.is_set()
    assert ended.wait(timeout=5), "the sampling loop kept running after the app exited"


async def test_bundled_checkpoint_is_listed_last_and_remembered(home, monkeypatch):
    from shakespeare_tui.core.runs import folders as core_runs

    bundled = home / "bundled.pt"
    shutil.copy(home / "runs" / "t" / "best.pt", bundled)
    monkeypatch.setattr(core_runs, "bundled_checkpoint", lambda: bundled)
    settings = GenerateSettings(checkpoint="bundled", length=40)
    app = generate_app(Paths.resolve(home), settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        assert [e.title for e in picker.entries][-1] == "bundled (pretrained)"
        assert picker.selected_entry.key == "bundled"
        await pilot.press("g")
        await settle(pilot)
        assert len(output_of(screen).text) == 40
        picker.highlighted = 0
        await pilot.pause()
        assert settings.checkpoint == str(home / "runs" / "t" / "best.pt")


# -- preselection ----------------------------------------------------------------------------


def _entry(key: str, kind: str, ok: bool = True):
    from shakespeare_tui.core.model.checkpoint import CheckpointInfo
    from shakespeare_tui.core.runs.checkpoints import CheckpointEntry

    info = CheckpointInfo(path=key, ok=ok, error=None if ok else "corrupt")
    return CheckpointEntry(key=key, path=key, title=key, info=info, kind=kind)


def test_default_key_prefers_remembered_then_best_then_bundled_then_last():
    from shakespeare_tui.core.runs.checkpoints import default_key

    stopped_last = _entry("new/last.pt", "last")  # newest run: stopped before an epoch ended
    old_best, old_last = _entry("old/best.pt", "best"), _entry("old/last.pt", "last")
    bundled = _entry("bundled", "bundled")
    assert default_key([stopped_last, old_best, old_last, bundled]) == "old/best.pt"
    assert default_key([stopped_last, old_last, bundled]) == "bundled"
    assert default_key([stopped_last, old_last]) == "new/last.pt"
    assert default_key([stopped_last, old_best, bundled], "new/last.pt") == "new/last.pt"
    assert default_key([stopped_last, bundled], "gone/best.pt") == "bundled"
    broken_best = _entry("broken/best.pt", "best", ok=False)
    assert default_key([broken_best, bundled]) == "bundled"
    assert default_key([broken_best]) == "broken/best.pt"  # shown, and refused with a reason
    assert default_key([]) is None


async def test_bundled_beats_a_run_stopped_before_its_first_epoch(home, monkeypatch):
    from shakespeare_tui.core.runs import folders as core_runs

    bundled = home / "bundled.pt"
    shutil.copy(home / "runs" / "t" / "best.pt", bundled)
    monkeypatch.setattr(core_runs, "bundled_checkpoint", lambda: bundled)
    # The only run was stopped mid-epoch 1: a last.pt, no best.pt.
    stopped = add_run(home, "stopped", "2999-01-01T00:00:00+00:00", keep=("last.pt",))
    shutil.rmtree(home / "runs" / "t")
    settings = GenerateSettings()
    app = generate_app(Paths.resolve(home), settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        assert [e.title for e in picker.entries] == ["stopped · last", "bundled (pretrained)"]
        assert picker.selected_entry.key == "bundled"
        assert settings.checkpoint == "", "an automatic choice is not remembered"

        # Training saves a best: the automatic choice follows it.
        shutil.copy(bundled, stopped / "best.pt")
        screen.refresh_checkpoints()
        await settle(pilot)
        assert picker.selected_entry.title == "stopped · best"
        assert settings.checkpoint == ""

        # The person picks one: a rescan keeps it, and it is remembered.
        picker.highlighted = [e.key for e in picker.entries].index("bundled")
        await pilot.pause()
        assert settings.checkpoint == "bundled"
        add_run(home, "newer", "3000-01-01T00:00:00+00:00", keep=("best.pt",), source="stopped")
        screen.refresh_checkpoints()
        await settle(pilot)
        assert picker.entries[0].title == "newer · best"
        assert picker.selected_entry.key == "bundled"


async def test_generating_remembers_the_checkpoint(home):
    settings = GenerateSettings(length=20)
    app = generate_app(Paths.resolve(home), settings)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.query_one(CheckpointPicker).selected_entry.title == "t · best"
        assert settings.checkpoint == ""
        await pilot.press("g")
        await settle(pilot)
    assert settings.checkpoint == str(home / "runs" / "t" / "best.pt")


# -- rough edges -----------------------------------------------------------------------------


async def test_checkpoint_deleted_after_the_scan_is_explained_and_the_list_refreshed(home):
    app = generate_app(Paths.resolve(home), GenerateSettings(length=30))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        picker = screen.query_one(CheckpointPicker)
        assert picker.selected_entry.title == "t · best"
        (home / "runs" / "t" / "best.pt").unlink()
        await pilot.press("g")
        await settle(pilot)
        assert any("t · best no longer exists" in note for note in app.notes), app.notes
        assert not any("FileNotFoundError" in note for note in app.notes)
        assert [e.title for e in picker.entries] == ["t · last"]
        assert picker.selected_entry.title == "t · last"
        app.notes.clear()
        await pilot.press("g")  # the next `g` works
        await settle(pilot)
        assert len(output_of(screen).text) == 30
        assert not app.notes


async def test_an_overlong_prompt_is_refused_beside_the_field(home):
    from shakespeare_tui.core.sampling.settings import MAX_PROMPT

    app = generate_app(Paths.resolve(home), GenerateSettings(length=30))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        set_field(screen, "prompt", "Shall I " * (MAX_PROMPT // 8 + 1))
        await pilot.pause()
        assert screen.query_one("#prompt-error").display
        await pilot.press("g")
        await settle(pilot)
        assert any(n.startswith("Cannot generate: Prompt must be at most") for n in app.notes), (
            app.notes
        )
        assert screen.query_one(OutputPane).worker is None


def test_stop_interrupts_reading_a_long_prompt(trained_run):
    """A stop during the prompt (thousands of single steps) ends generation at once."""
    import threading

    from shakespeare_tui.core.model.checkpoint import load_checkpoint
    from shakespeare_tui.core.model.network import CharStepper
    from shakespeare_tui.core.sampling.sampler import SampleSettings, generate

    _, finished, _ = trained_run
    checkpoint = load_checkpoint(Path(finished.best_checkpoint))
    stepper = CharStepper(checkpoint.model)
    steps = 0
    real_step = stepper.step

    def counted(*args):
        nonlocal steps
        steps += 1
        if steps == 100:
            stop.set()
        return real_step(*args)

    stepper.step = counted
    stop = threading.Event()
    prompt = "Shall I compare thee " * 450  # 9,450 characters, within MAX_PROMPT
    settings = SampleSettings(length=10, prompt=prompt, seed=1)
    assert list(generate(stepper, checkpoint.vocab, settings, stop=stop)) == []
    assert steps == 100


async def test_first_character_arrives_at_once_after_g(home):
    """From the `g` key to the first streamed character, with the model already loaded.

    The first chunk carries the first sampled character alone: it is posted at once, not
    after the ~30 ms the later chunks gather.
    """
    import asyncio
    import statistics
    import time

    from textual import events

    marks: list[tuple[str, float, object]] = []

    def hook(message):
        if isinstance(message, events.Key) and message.key == "g":
            marks.append(("key", time.perf_counter(), message))
        elif isinstance(message, (GenerationChunk, GenerationFinished)):
            marks.append((type(message).__name__, time.perf_counter(), message))

    async def wait_mark(kind: str, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while not any(m[0] == kind for m in marks):
            assert time.monotonic() < deadline, f"no {kind} after {timeout:.0f}s"
            await asyncio.sleep(0.002)
        return next(m for m in marks if m[0] == kind)

    app = generate_app(Paths.resolve(home), GenerateSettings(length=100_000))
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")  # the first `g` loads the model
        await wait_mark("GenerationChunk")
        await pilot.press("g")
        await settle(pilot)
        delays, first_sizes = [], []
        for _ in range(5):
            marks.clear()
            # The key as the terminal driver delivers it (pilot.press would also wait for
            # the busy worker to go idle, which says nothing about the app's latency).
            app._driver.send_message(events.Key("g", "g"))
            key = await wait_mark("key")
            chunk = await wait_mark("GenerationChunk")
            delays.append(chunk[1] - key[1])
            first_sizes.append(len(chunk[2].chars))
            app._driver.send_message(events.Key("g", "g"))
            await wait_mark("GenerationFinished")
        await settle(pilot)
        assert not screen.generating
    assert first_sizes == [1] * 5
    median = statistics.median(delays)
    shown = [round(d * 1000, 1) for d in delays]
    print(f"g → first character: median {median * 1000:.1f} ms, all {shown} ms")
    # The first chunk's single character (above) is what "at once" means here. The time is no
    # speed figure: with the suite's other workers on the same two cores it took 36–131 ms
    # (and a few ms alone); the bound only catches a start that stalls.
    assert median < 0.5, delays


async def test_a_burst_of_rescans_runs_one_scan_at_a_time(home):
    """Training saves checkpoints many times a second: the scans do not pile up."""
    app = generate_app(Paths.resolve(home), GenerateSettings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        started = []
        running = []
        listing = app.listing.listing  # the core Listing the app's worker reads
        real_refresh = listing.refresh

        def counted(*args, **kwargs):
            assert not running, "a scan started while another ran"
            running.append(1)
            started.append(1)
            try:
                return real_refresh(*args, **kwargs)
            finally:
                running.pop()

        listing.refresh = counted
        for _ in range(20):
            screen.refresh_checkpoints()
        add_run(home, "u", "2999-01-01T00:00:00+00:00", keep=("best.pt", "last.pt"))
        screen.refresh_checkpoints()  # after the new run: its scan must come
        picker = screen.query_one(CheckpointPicker)
        await wait_for(
            pilot,
            lambda: bool(picker.entries) and picker.entries[0].title == "u · best",
            30,
            "the new run listed first",
        )
        await settle(pilot)
        assert len(started) == 2
        assert [e.title for e in picker.entries][:2] == ["u · best", "u · last"]
        assert picker.selected_entry.title == "u · best"  # the newest best: nothing was chosen


async def test_stop_while_the_model_loads_keeps_the_text_shown(home):
    import threading

    app = generate_app(Paths.resolve(home), GenerateSettings(length=40, seed="1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("g")
        await settle(pilot)
        before = output_of(screen).text
        assert len(before) == 40
        release = threading.Event()
        models = screen.query_one(OutputPane).models()
        real_load = models.load

        def slow_load(path, title):
            release.wait(10)  # a big checkpoint being read
            return real_load(path, title)

        models.load = slow_load
        await pilot.press("g")
        assert screen.generating
        await pilot.press("g")  # stop before the model is there
        assert not screen.generating
        release.set()
        await settle(pilot)
        assert output_of(screen).text == before
        status = str(screen.query_one("#generate-status").render())
        assert "stopped before the first character" in status
        assert not app.notes
