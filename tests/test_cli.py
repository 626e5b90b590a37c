"""The headless CLI: train, generate, runs and export, and one-line refusals (exit 2) for bad
input. Most tests call `main()` in-process; a few run `python -m shakespeare_tui` end to end."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shakespeare_tui.cli import EXIT_OK, main
from tests.cli_support import assert_one_line_error, cli, wide_console  # noqa: F401

TRAIN = ["train", "--preset", "tiny", "--threads", "1", "--no-bf16", "--quiet"]


pytestmark = [pytest.mark.usefixtures("wide_console"), pytest.mark.heavy(25)]


@pytest.fixture(scope="module")
def home(tmp_path_factory, corpus_file) -> Path:
    """A data dir with one run "r": the tiny preset, 30 steps (mid epoch 1)."""
    home = tmp_path_factory.mktemp("cli") / "home"
    code = main(
        TRAIN
        + ["--corpus", str(corpus_file), "--max-steps", "30", "--name", "r"]
        + ["--data-dir", str(home)]
    )
    assert code == EXIT_OK
    return home


# ---------------------------------------------------------------- train


def test_train_creates_the_run_folder(home):
    run = home / "runs" / "r"
    for name in ("config.json", "metrics.jsonl", "samples.txt", "best.pt", "last.pt"):
        assert (run / name).is_file(), name
    assert not (run / ".lock").exists()
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["max_steps"] == 30 and config["train"]["preset"] == "tiny"


def test_metrics_have_step_and_epoch_records(home):
    records = [json.loads(line) for line in (home / "runs" / "r" / "metrics.jsonl").open()]
    steps = [r for r in records if r["kind"] == "step"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["step"] for r in steps] == [10, 20, 30]
    for record in steps:
        assert {"step", "epoch", "train_loss", "chars_per_sec", "elapsed_s"} <= record.keys()
        assert record["epoch"] == 1 and record["chars_per_sec"] > 0
    assert [r["epoch"] for r in epochs] == [0, 1]  # before training, then the partial epoch 1
    assert all(isinstance(r["val_loss"], float) for r in epochs)
    assert epochs[-1]["partial"] and epochs[-1]["val_loss"] < epochs[0]["val_loss"]


def test_a_budget_end_says_how_to_continue_and_the_hint_works(capsys, corpus_file, tmp_path):
    code, out, err = cli(
        capsys, *TRAIN, "--corpus", corpus_file, "--max-steps", "12", "--name", "x",
        "--data-dir", tmp_path,
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert "run x" in out and "reached 12 steps" in out
    assert err == ""
    # A larger budget, as a command that works as printed.
    hint = next(line for line in out.splitlines() if line.startswith("continue: "))
    data_dir = shlex.quote(str(tmp_path))
    assert (
        hint == f"continue: shakespeare-tui train --resume x --max-steps 24 --data-dir {data_dir}"
    )
    code, out, err = cli(capsys, *shlex.split(hint.removeprefix("continue: shakespeare-tui ")))
    assert code == EXIT_OK, err
    assert "resuming x in epoch 1, step 12" in out and "reached 24 steps" in out
    assert "continue: shakespeare-tui train --resume x --max-steps 48" in out


def test_finished_epochs_say_how_to_continue_and_are_not_resumed_as_they_are(
    capsys, corpus_file, tmp_path
):
    home = ["--data-dir", tmp_path]
    code, out, err = cli(
        capsys, *TRAIN, "--corpus", corpus_file, "--epochs", "1", "--name", "e", *home
    )
    assert code == EXIT_OK, err
    assert (
        "finished 1 epochs" in out
        and "continue: shakespeare-tui train --resume e --epochs 2" in out
    )
    last = (tmp_path / "runs" / "e" / "last.pt").read_bytes()
    code, out, err = cli(capsys, "train", "--resume", "e", *home)
    assert_one_line_error(code, err, "run e already finished --epochs 1", "--epochs 2")
    assert out == "" and (tmp_path / "runs" / "e" / "last.pt").read_bytes() == last


def test_train_restores_the_signal_handlers(capsys, corpus_file, tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    cli(capsys, *TRAIN, "--corpus", corpus_file, "--max-steps", "1", "--data-dir", tmp_path)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_max_steps_counts_steps_before_a_resume(capsys, home, tmp_path):
    data = tmp_path / "home"
    shutil.copytree(home, data)
    metrics = data / "runs" / "r" / "metrics.jsonl"
    before = metrics.read_text()

    # Its budget spent, the run cannot go on as it is: one line says so and how to go on,
    # instead of "reached 30 steps" and the same hint again.
    for budget in (["--max-steps", "30"], []):
        code, out, err = cli(
            capsys, "train", "--resume", "r", *budget, "--quiet", "--data-dir", data
        )
        assert_one_line_error(code, err, "run r already reached --max-steps 30", "--max-steps 60")
        assert out == ""
    assert metrics.read_text() == before  # no step taken, nothing validated again

    code, out, err = cli(
        capsys, "train", "--resume", "r", "--max-steps", "45", "--quiet", "--data-dir", data
    )
    assert code == EXIT_OK, err
    assert "reached 45 steps" in out
    steps = [json.loads(line)["step"] for line in metrics.open() if '"kind": "step"' in line]
    assert steps == [10, 20, 30, 35, 40, 45]


def interrupted_twice(monkeypatch, run_dir: Path, **started_changes) -> None:
    """engine.train as a second Ctrl+C leaves it: started, then KeyboardInterrupt mid-run."""
    import shakespeare_tui.core.training.engine as engine

    def train(config, paths, *, on_event, **options):
        on_event(started(run_name=run_dir.name, run_dir=str(run_dir), **started_changes))
        on_event(step(40, 5, 3.0, epoch=2, spe=35))
        raise KeyboardInterrupt  # what the second Ctrl+C raises from the signal handler

    monkeypatch.setattr(engine, "train", train)


def test_a_second_ctrl_c_says_which_checkpoint_remains(capsys, home, tmp_path, monkeypatch):
    data = tmp_path / "home"
    shutil.copytree(home, data)
    run_dir = data / "runs" / "r"
    interrupted_twice(monkeypatch, run_dir, resumed=True, step=30)
    code, out, err = cli(
        capsys, "train", "--resume", "r", "--max-steps", "60", "--quiet", "--data-dir", data
    )
    assert code == 130
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{run_dir / 'last.pt'}, at step 30, is what remains" in err, err
    assert "steps after it are lost" in err and "train --resume r" in err


def test_a_second_ctrl_c_before_any_checkpoint_says_nothing_was_saved(
    capsys, corpus_file, tmp_path, monkeypatch
):
    run_dir = tmp_path / "runs" / "n"
    run_dir.mkdir(parents=True)
    interrupted_twice(monkeypatch, run_dir)
    code, _, err = cli(
        capsys, *TRAIN, "--corpus", corpus_file, "--name", "n", "--data-dir", tmp_path
    )
    assert code == 130
    assert err.count("\n") == 1 and "nothing was saved" in err, err


# ---------------------------------------------------------------- generate, runs, export


def test_generate_replays_with_the_same_seed(capsys, home):
    args = ["generate", "--checkpoint", "r", "--seed", "1", "--length", "120", "--data-dir", home]
    code, first, err = cli(capsys, *args)
    assert code == EXIT_OK and err.strip() == "seed 1 (replay with --seed 1)"
    assert len(first) == 121  # the text and a final newline
    code, second, _ = cli(capsys, *args)
    assert second == first
    code, other, _ = cli(capsys, *args[:3], "--seed", "2", *args[5:])
    assert other != first


def test_generate_reports_a_drawn_seed_that_replays(capsys, home):
    code, first, err = cli(
        capsys, "generate", "--checkpoint", "r", "--length", "80", "--data-dir", home
    )
    assert code == EXIT_OK
    seed = err.split()[1]
    _, again, _ = cli(
        capsys,
        "generate",
        "--checkpoint",
        "r",
        "--length",
        "80",
        "--seed",
        seed,
        "--data-dir",
        home,
    )
    assert again == first


def test_generate_reports_no_seed_at_temperature_0(capsys, home):
    """Temperature 0 always takes the likeliest character: a seed changes nothing."""
    args = ["generate", "--checkpoint", "r", "--temperature", "0", "--length", "40"]
    code, out, err = cli(capsys, *args, "--data-dir", home)
    assert code == EXIT_OK and len(out) == 41
    assert err == ""


def test_generate_into_a_reader_that_leaves_keeps_the_seed_and_exits_0(home):
    """`generate | head`: the seed line comes first, and the broken pipe ends it quietly."""
    env = dict(os.environ, SHAKESPEARE_TUI_HOME=str(home))
    env.pop("SHAKESPEARE_TUI_DEBUG", None)
    args = ["generate", "--checkpoint", "r", "--length", "1000000", "--seed", "5"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "shakespeare_tui", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert len(proc.stdout.read(20)) == 20
        proc.stdout.close()  # what head does once it has its lines
        assert proc.wait(timeout=120) == EXIT_OK
        assert proc.stderr.read().decode() == "seed 5 (replay with --seed 5)\n"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_generate_starts_with_the_prompt(capsys, home):
    code, out, _ = cli(
        capsys, "generate", "--checkpoint", home / "runs" / "r" / "last.pt", "--prompt", "Love ",
        "--temperature", "0", "--length", "30", "--data-dir", home,
    )  # fmt: skip
    assert code == EXIT_OK and out.startswith("Love ") and len(out) == len("Love ") + 31


def test_generate_uses_the_bundled_checkpoint_by_default(capsys, tmp_path):
    from shakespeare_tui.core.runs.folders import bundled_checkpoint

    if not bundled_checkpoint().is_file():
        pytest.skip("no bundled checkpoint in this checkout")
    args = ["generate", "--length", "60", "--seed", "2", "--data-dir", tmp_path]
    code, first, err = cli(capsys, *args)
    assert code == EXIT_OK, err
    assert len(first) == 61 and cli(capsys, *args)[1] == first


def test_runs_lists_the_run(capsys, home):
    code, out, err = cli(capsys, "runs", "--data-dir", home)
    assert code == EXIT_OK, err
    line = next(line for line in out.splitlines() if line.startswith("r "))
    assert "LSTM E16/H32" in line
    # r stopped in epoch 1: none done, and the header says it counts finished ones.
    header = out.splitlines()[0].split()
    assert header[3:5] == ["epochs", "done"] and line.split()[4] == "0", out


def test_export_fp32_generates_the_same_text(capsys, home, tmp_path):
    target = tmp_path / "small.pt"
    code, out, err = cli(capsys, "export", "r", target, "--fp32", "--data-dir", home)
    assert code == EXIT_OK, err
    args = ["--seed", "3", "--length", "100", "--data-dir", home]
    _, original, _ = cli(capsys, "generate", "--checkpoint", "r", *args)
    _, exported, _ = cli(capsys, "generate", "--checkpoint", target, *args)
    assert exported == original
    code, _, err = cli(capsys, "train", "--resume", target, "--data-dir", home)
    assert_one_line_error(code, err, "no training state")


def test_export_refuses_to_overwrite_without_force(capsys, home, tmp_path):
    target = tmp_path / "small.pt"
    target.write_bytes(b"keep me")
    code, _, err = cli(capsys, "export", "r", target, "--data-dir", home)
    assert_one_line_error(code, err, "--force")
    assert target.read_bytes() == b"keep me"
    code, _, err = cli(capsys, "export", "r", target, "--force", "--data-dir", home)
    assert code == EXIT_OK, err
    assert target.stat().st_size > 1000


def test_export_into_a_folder_writes_a_file_named_after_the_run(capsys, home, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    code, out, err = cli(capsys, "export", "r", folder, "--data-dir", home)
    assert code == EXIT_OK, err
    assert (folder / "r.pt").stat().st_size > 1000 and f"wrote {folder / 'r.pt'}" in out
    code, _, err = cli(capsys, "export", "r", f"{folder}/", "--data-dir", home)
    assert_one_line_error(code, err, f"{folder / 'r.pt'} already exists", "--force")


def test_export_offers_force_only_where_forcing_helps(capsys, home, tmp_path):
    (tmp_path / "r.pt").mkdir()  # a folder where the file would go
    for force in ([], ["--force"]):
        code, _, err = cli(capsys, "export", "r", tmp_path, *force, "--data-dir", home)
        assert_one_line_error(code, err, "r.pt", "is a folder")
        assert "--force" not in err
    last = home / "runs" / "r" / "last.pt"
    before = last.read_bytes()
    code, _, err = cli(capsys, "export", last, last, "--force", "--data-dir", home)
    assert_one_line_error(code, err, "is the checkpoint itself")
    assert "--force" not in err and last.read_bytes() == before


# ---------------------------------------------------------------- one-line refusals


@pytest.fixture
def bad_files(tmp_path) -> dict[str, Path]:
    files = {
        "non-utf8": b"Shall I compare thee\n\xff\xfe to a summer's day?\n",
        "empty": b"",
        "short": b"Shall I compare thee to a summer's day?\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder").mkdir()
    return {name: tmp_path / name for name in [*files, "folder"]}


@pytest.mark.parametrize(
    "case, args, words",
    [
        ("missing corpus", ["--corpus", "{tmp}/nope.txt"], ["not found"]),
        ("directory", ["--corpus", "{tmp}/folder"], ["directory"]),
        ("non-UTF-8", ["--corpus", "{tmp}/non-utf8"], ["UTF-8"]),
        ("empty", ["--corpus", "{tmp}/empty"], ["empty"]),
        ("too short", ["--corpus", "{tmp}/short"], ["characters"]),
        ("bad lr", ["--corpus", "{corpus}", "--lr", "abc"], ["--lr", "abc"]),
        ("zero epochs", ["--corpus", "{corpus}", "--epochs", "0"], ["--epochs"]),
        ("lr too big", ["--corpus", "{corpus}", "--lr", "50"], ["--lr must be"]),
        ("no cuda", ["--corpus", "{corpus}", "--device", "cuda"], ["CUDA"]),
        ("bad device", ["--corpus", "{corpus}", "--device", "tpu"], ["device"]),
        ("bad run name", ["--corpus", "{corpus}", "--name", "../up"], ["run name"]),
    ],
)
def test_train_refuses_bad_input_in_one_line(
    capsys, bad_files, corpus_file, tmp_path, case, args, words
):
    args = [a.format(tmp=tmp_path, corpus=corpus_file) for a in args]
    code, _, err = cli(capsys, *TRAIN, *args, "--data-dir", tmp_path / "home")
    assert_one_line_error(code, err, *words)
    runs = tmp_path / "home" / "runs"
    assert not runs.exists() or not any(runs.iterdir())  # no half-made run folder


@pytest.mark.parametrize(
    "args, words",
    [
        (["--lr", "50"], ["--lr must be in (0, 10)"]),
        (["--dropout", "1"], ["--dropout must be in [0, 1)"]),
        (["--clip", "0"], ["--clip must be positive"]),
        (["--max-minutes", "0"], ["--max-minutes must be positive"]),
        (["--val-fraction", "0.7"], ["--val-fraction must be in (0, 0.5)"]),
    ],
)
def test_a_setting_out_of_range_is_refused_by_its_flag(capsys, corpus_file, tmp_path, args, words):
    code, _, err = cli(capsys, *TRAIN, "--corpus", corpus_file, *args, "--data-dir", tmp_path)
    assert_one_line_error(code, err, *words)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--corpus", "{tmp}/nope.txt"], ["not found"]),
        (["--corpus", "{tmp}/folder"], ["directory"]),
        (["--corpus", "{corpus}", "--lr", "50"], ["--lr"]),
        (["--corpus", "{corpus}", "--dropout", "1"], ["--dropout"]),
        (["--corpus", "{corpus}", "--name", "../up"], ["run name"]),
    ],
)
def test_bad_input_is_refused_before_the_device_is_probed(
    capsys, bad_files, corpus_file, tmp_path, monkeypatch, args, words
):
    """Probing CUDA can print (torch warns of a missing driver; the run notes "no GPU"): a
    refusal must come first, alone."""
    import torch

    probes = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: probes.append("cuda") or False)
    args = [a.format(tmp=tmp_path, corpus=corpus_file) for a in args]
    code, out, err = cli(capsys, "train", "--preset", "tiny", *args, "--data-dir", tmp_path / "h")
    assert_one_line_error(code, err, *words)
    assert out == "" and probes == []


@pytest.mark.parametrize(
    "args, words",
    [
        (["--temperature", "-1"], ["temperature"]),
        (["--temperature", "nan"], ["--temperature"]),
        (["--top-k", "0"], ["top-k"]),
        (["--length", "0"], ["length"]),
        (["--seed", "-3"], ["--seed"]),
        (["--prompt", "Shall I ☃"], ["prompt", "☃"]),
        (["--checkpoint", "nonexistent"], ["nonexistent"]),
    ],
)
def test_generate_refuses_bad_input_in_one_line(capsys, home, args, words):
    code, out, err = cli(capsys, "generate", "--checkpoint", "r", *args, "--data-dir", home)
    assert_one_line_error(code, err, *words)
    assert out == ""


def test_generate_refuses_a_truncated_checkpoint(capsys, home, tmp_path):
    data = (home / "runs" / "r" / "best.pt").read_bytes()
    broken = tmp_path / "broken.pt"
    broken.write_bytes(data[: len(data) // 2])
    code, out, err = cli(capsys, "generate", "--checkpoint", broken, "--data-dir", home)
    assert_one_line_error(code, err, "broken.pt", "truncated")
    assert out == ""


@pytest.mark.parametrize("command", ["generate", "export", "resume"])
def test_a_broken_checkpoint_is_named_by_its_path(capsys, home, tmp_path, command):
    """ "best.pt is not a checkpoint" does not say which run's."""
    data = tmp_path / "home"
    shutil.copytree(home, data)
    run = data / "runs" / "r"
    for name in ("best.pt", "last.pt"):
        (run / name).write_text("not a checkpoint")
    args = {
        "generate": ["generate", "--checkpoint", "r"],
        "export": ["export", "r", tmp_path / "small.pt"],
        "resume": ["train", "--resume", "r"],
    }[command]
    code, out, err = cli(capsys, *args, "--data-dir", data)
    path = run / ("last.pt" if command == "resume" else "best.pt")
    assert_one_line_error(code, err, f"{path} is not a shakespeare-tui checkpoint")
    assert out == ""


def test_resume_of_a_run_without_a_checkpoint(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    (home / "runs" / "empty").mkdir(parents=True)
    code, _, err = cli(capsys, "train", "--resume", "empty", "--data-dir", home)
    assert_one_line_error(code, err, "no checkpoint")
    code, _, err = cli(capsys, "train", "--resume", "ghost", "--data-dir", home)
    assert_one_line_error(code, err, "ghost")


@pytest.mark.parametrize(
    "args, saved",
    [
        (["--lr", "0.1"], "learning rate 0.01"),
        (["--corpus", "other.txt"], "corpus /"),
        (["--preset", "notebook"], "preset tiny"),  # its E256/H1024 is not this run's
        (["--bf16"], "bf16 False"),
        (["--seed", "6"], "seed 1337"),
    ],
)
def test_resume_refuses_a_setting_that_differs_naming_the_runs_value(capsys, home, args, saved):
    before = (home / "runs" / "r" / "metrics.jsonl").read_bytes()
    code, out, err = cli(capsys, "train", "--resume", "r", *args, "--data-dir", home)
    assert_one_line_error(code, err, args[0], "differs from this run's", saved, "--max-steps")
    assert (home / "runs" / "r" / "metrics.jsonl").read_bytes() == before


def test_the_starting_command_repeated_with_resume_continues_the_run(
    capsys, corpus_file, tmp_path, monkeypatch
):
    """People rerun their last command with --resume added: the run's own values are fine."""
    monkeypatch.chdir(corpus_file.parent)  # the corpus by a relative path: recorded absolute
    start = [*TRAIN, "--corpus", corpus_file.name, "--seed", "5", "--name", "split"]
    home = ["--data-dir", tmp_path / "home"]
    code, _, err = cli(capsys, *start, "--max-steps", "15", *home)
    assert code == EXIT_OK, err
    code, out, err = cli(capsys, *start, "--max-steps", "25", "--resume", "split", *home)
    assert code == EXIT_OK, err
    assert "resuming split in epoch 1, step 15" in out and "reached 25 steps" in out


def every_parser():
    """(name, parser) for the program and each of its commands."""
    import argparse

    from shakespeare_tui.cli import build_parser

    def walk(name, parser):  # and the commands' own actions (`runs diff`, `runs rm`…)
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    yield from walk(f"{name} {sub}", subparser)

    yield from walk("shakespeare-tui", build_parser())


def test_every_flag_has_a_help_line_that_gives_its_default():
    import argparse

    problems = []
    for name, parser in every_parser():
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            flag = f"{name} {'/'.join(action.option_strings) or action.dest}"
            if not action.help or action.help == argparse.SUPPRESS:
                problems.append(f"{flag}: no help")
            elif action.option_strings and action.nargs != 0 and "default" not in action.help:
                problems.append(f"{flag}: no default in {action.help!r}")
        shown = parser.format_help()
        if "None" in shown:
            problems.append(f"{name}: 'None' in its help")
    assert problems == []
    # the program, train, generate, inspect, memory, runs (and its diff, rm, mv), queue, export
    assert len(list(every_parser())) == 11


def test_model_flags_give_each_presets_value(capsys):
    code, out, _ = cli(capsys, "train", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "notebook 256, cpu 128, tiny 16" in text  # --embed
    assert "notebook 1024, cpu 640, tiny 32" in text  # --hidden
    assert "notebook 0.001, cpu 0.002, tiny 0.01" in text  # --lr


def test_unknown_command_and_option(capsys):
    code, _, err = cli(capsys, "fly")
    assert_one_line_error(code, err)
    code, _, err = cli(capsys, "generate", "--colour", "red")
    assert_one_line_error(code, err, "--colour")


# ---------------------------------------------------------------- end to end, in a new process


def run_cli(*args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SHAKESPEARE_TUI_HOME=str(home))
    env.pop("SHAKESPEARE_TUI_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "shakespeare_tui", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def test_end_to_end_train_then_generate(corpus_file, tmp_path):
    home = tmp_path / "home"
    trained = run_cli(
        *TRAIN, "--corpus", corpus_file, "--max-steps", "15", "--name", "e2e", home=home
    )
    assert trained.returncode == 0, trained.stderr
    assert (home / "runs" / "e2e" / "best.pt").is_file()

    generated = run_cli(
        "generate", "--checkpoint", "e2e", "--seed", "4", "--length", "50", home=home
    )
    assert generated.returncode == 0, generated.stderr
    assert len(generated.stdout) == 51
    assert generated.stderr.strip() == "seed 4 (replay with --seed 4)"


def test_end_to_end_refusal_is_one_line(tmp_path):
    result = run_cli(*TRAIN, "--corpus", tmp_path / "missing.txt", home=tmp_path / "home")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert "not found" in result.stderr


# ---------------------------------------------------------------- the training report


def started(**changes):
    from shakespeare_tui.core.events import TrainingStarted

    values = dict(
        run_name="t300", run_dir="/data/runs/t300", device="CPU · 2 threads",
        model_summary="LSTM E16/H32", parameters=10_124, corpus="plays", corpus_chars=4_780_000,
        steps_per_epoch=8_406, epochs=20, step=0, epoch=0, resumed=False,
    )  # fmt: skip
    values.update(changes)
    return TrainingStarted(**values)


def report(*events, quiet: bool = True, **options):
    """A ConsoleReporter fed `events`: (the reporter, what it printed)."""
    from io import StringIO

    from rich.console import Console

    from shakespeare_tui.cli.train_report import ConsoleReporter

    buffer = StringIO()
    console = Console(file=buffer, width=250, highlight=False, soft_wrap=True)
    with ConsoleReporter(quiet=quiet, console=console, **options) as reporter:
        for event in events:
            reporter(event)
    return reporter, buffer.getvalue()


def test_the_start_line_writes_numbers_as_the_app_does():
    _, out = report(started())
    assert "10,124 parameters" in out and "8,406 steps per epoch" in out, out
    assert "4,780,000 chars" in out
    _, out = report(started(parameters=5_330_000))
    assert "5.3M parameters" in out, out


def test_the_events_the_cli_does_not_show_print_nothing():
    """The reporter matches every engine event (assert_never ends its match): the size a budget
    chose is among the start line's notes, and the CLI asks for no samples."""
    from shakespeare_tui.core.events import ModelSized, SampleDrawn

    _, out = report(
        ModelSized("LSTM E96/H512", "sized for 10 min"), SampleDrawn(5, 1, "To be", 0.8)
    )
    assert out == ""


def test_a_resume_names_the_epoch_in_progress_as_the_bar_does():
    """One convention: "epoch N" is the N-th epoch, the one in progress until it ends."""
    _, out = report(started(resumed=True, step=300, epoch=0))
    assert "resuming t300 in epoch 1, step 300" in out, out
    _, out = report(started(resumed=True, step=8_406 * 2, epoch=2))
    assert "resuming t300 in epoch 3, step 16,812" in out, out


def test_a_refused_train_prints_nothing_on_stdout(capsys, tmp_path):
    code, out, err = cli(
        capsys, "train", "--preset", "tiny", "--corpus", tmp_path / "nope.txt",
        "--data-dir", tmp_path,
    )  # fmt: skip
    assert_one_line_error(code, err, "not found")
    assert out == ""


def step(step, epoch_step, elapsed, epoch=1, spe=8_406, loss=2.5):
    from shakespeare_tui.core.events import StepLogged

    return StepLogged(
        step=step, epoch=epoch, epoch_step=epoch_step, steps_per_epoch=spe, train_loss=loss,
        chars_per_sec=20_000.0, elapsed_s=elapsed, lr=1e-3,
    )  # fmt: skip


def epoch_ended(epoch, step, elapsed):
    from shakespeare_tui.core.events import EpochEnded

    return EpochEnded(
        epoch=epoch, step=step, train_loss=2.0, val_loss=2.1, best_val_loss=2.1, best_epoch=1,
        improved=True, patience_left=5, sample="", elapsed_s=elapsed,
    )  # fmt: skip


def test_an_epoch_line_gives_the_elapsed_time_as_the_bar_does():
    _, out = report(started(), epoch_ended(1, 8_406, 125.0))
    assert "epoch 1 · train 2.0000 · val 2.1000 best · patience 5 · elapsed 2:05" in out, out


def test_the_bar_says_validating_and_which_eta_it_shows():
    from shakespeare_tui.cli.train_report import ConsoleReporter

    reporter = ConsoleReporter(quiet=True)
    reporter(started(epochs=2, steps_per_epoch=100))
    assert reporter.status == "validating the untrained model…"  # the 8 s before step 1
    reporter(step(10, 10, 8.0, spe=100))
    assert "epoch ETA —" in reporter.status and "run ETA —" in reporter.status  # no rate yet
    assert "0:00" not in reporter.status
    reporter(step(20, 20, 9.0, spe=100))  # 10 steps a second
    assert "epoch ETA 0:08" in reporter.status and "run ETA 0:18" in reporter.status
    assert "loss 2.500" in reporter.status and "elapsed 0:09" in reporter.status
    reporter(step(100, 100, 17.0, spe=100))
    from shakespeare_tui.core.events import ValidationStarted

    reporter(ValidationStarted(epoch=1, step=100))  # the engine says when it validates
    assert reporter.status == "validating…"
    reporter(epoch_ended(1, 100, 20.0))  # a 3-second validation
    assert reporter.epoch_label == "2/2"
    assert "epoch ETA 0:10" in reporter.status and "run ETA 0:13" in reporter.status


def test_a_bad_corpus_is_refused_before_torch_loads(tmp_path):
    """Refusals come at once: torch takes a CPU-second or two to import."""
    code = (
        "import sys\n"
        "from shakespeare_tui.cli import main\n"
        f"code = main(['train', '--corpus', {str(tmp_path / 'nope.txt')!r}, '--data-dir', "
        f"{str(tmp_path)!r}])\n"
        "print('torch' in sys.modules, code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "2"], result
    assert "not found" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_headless_command_loads_neither_the_app_nor_torch_it_does_not_need(tmp_path):
    """The parser knows every command's function; the app (Textual, ~0.9 s to import) and
    torch load only in the commands that use them."""
    code = (
        "import sys\n"
        "from shakespeare_tui.cli import main\n"
        f"code = main(['queue', '--list', '--data-dir', {str(tmp_path)!r}])\n"
        "print(*(m in sys.modules for m in ('textual', 'shakespeare_tui.app', 'torch')), code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1].split() == ["False", "False", "False", "0"], result


def test_train_into_a_reader_that_leaves_trains_on(corpus_file, tmp_path):
    """`train | head`: the reader leaving is no reason to drop the run."""
    env = dict(os.environ, SHAKESPEARE_TUI_HOME=str(tmp_path))
    env.pop("SHAKESPEARE_TUI_DEBUG", None)
    args = [*TRAIN, "--corpus", corpus_file, "--max-steps", "80", "--name", "p"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "shakespeare_tui", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().startswith(b"run p")
        proc.stdout.close()  # what head -1 does
        assert proc.wait(timeout=120) == EXIT_OK
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    from shakespeare_tui.core.model.checkpoint import read_info

    assert read_info(tmp_path / "runs" / "p" / "last.pt").step == 80


def test_runs_into_a_reader_that_left_exits_0(home):
    env = dict(os.environ, SHAKESPEARE_TUI_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "shakespeare_tui", "runs"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    proc.stdout.close()  # gone before the table is written
    assert proc.wait(timeout=60) == EXIT_OK
    assert proc.stderr.read() == b""


def test_train_takes_cell_rnn_and_the_run_generates_and_resumes(capsys, corpus_file, tmp_path):
    code, out, err = cli(
        capsys, *TRAIN, "--cell", "rnn", "--corpus", corpus_file, "--max-steps", "20",
        "--name", "basic", "--data-dir", tmp_path,
    )  # fmt: skip
    assert code == EXIT_OK, err
    config = json.loads((tmp_path / "runs" / "basic" / "config.json").read_text())["train"]
    assert (config["model"]["cell"], config["preset"]) == ("rnn", "custom")
    code, out, err = cli(capsys, "runs", "--data-dir", tmp_path)
    assert code == EXIT_OK and "RNN E16/H32" in out, out
    code, text, err = cli(
        capsys, "generate", "--checkpoint", "basic", "--seed", "3", "--length", "50",
        "--data-dir", tmp_path,
    )  # fmt: skip
    assert code == EXIT_OK and len(text) == 51, err
    code, out, err = cli(
        capsys, "train", "--resume", "basic", "--cell", "lstm", "--data-dir", tmp_path
    )
    assert_one_line_error(code, err, "--cell lstm differs from this run's cell rnn")
    code, out, err = cli(
        capsys, "train", "--resume", "basic", "--cell", "rnn", "--max-steps", "30", "--quiet",
        "--data-dir", tmp_path,
    )  # fmt: skip
    assert code == EXIT_OK, err


def test_the_cell_flag_lists_the_three_cells(capsys):
    code, out, _ = cli(capsys, "train", "--help")
    assert code == 0 and "{lstm,gru,rnn}" in out


def test_eval_every_and_the_sample_settings_reach_the_run(capsys, corpus_file, tmp_path):
    code, out, err = cli(
        capsys, *TRAIN, "--corpus", corpus_file, "--max-steps", "25", "--name", "e",
        "--eval-every", "10", "--sample-length", "17", "--sample-temperature", "0",
        "--data-dir", tmp_path,
    )  # fmt: skip
    assert code == EXIT_OK, err
    records = [json.loads(line) for line in (tmp_path / "runs" / "e" / "metrics.jsonl").open()]
    assert [r["step"] for r in records if r["kind"] == "epoch"] == [0, 10, 20, 25]
    samples = (tmp_path / "runs" / "e" / "samples.txt").read_text()
    assert samples.count("=== step 10 (epoch 1)") == 1
    config = json.loads((tmp_path / "runs" / "e" / "config.json").read_text())["train"]
    assert (config["eval_every"], config["sample_length"], config["sample_temperature"]) == (
        10,
        17,
        0.0,
    )


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--eval-every", "-1", ["--eval-every", "at least 0"]),
        ("--sample-temperature", "5", ["--sample-temperature", "0 to 2"]),
        ("--sample-length", "-3", ["--sample-length", "at least 0"]),
    ],
)
def test_evaluation_and_sample_flags_out_of_range_are_refused_by_flag(
    capsys, corpus_file, tmp_path, flag, value, words
):
    code, out, err = cli(
        capsys, *TRAIN, "--corpus", corpus_file, flag, value, "--data-dir", tmp_path
    )
    assert_one_line_error(code, err, *words)


def test_a_large_corpus_is_encoded_under_a_bar_with_its_speed_and_eta():
    from io import StringIO

    from rich.console import Console

    from shakespeare_tui.cli.train_report import ConsoleReporter
    from shakespeare_tui.core.events import CorpusEncoding

    buffer = StringIO()
    console = Console(file=buffer, width=160, force_terminal=True, highlight=False)
    with ConsoleReporter(console=console) as reporter:
        reporter(CorpusEncoding(500_000_000, 2_000_000_000, 250.0, corpus="big.txt"))
        bar = reporter.encoding.progress
        assert bar is not None and bar.live.is_started
        assert bar.tasks[0].fields["numbers"] == "25% of 2.0 GB · 250 MB/s · ETA 0:06"
        reporter(CorpusEncoding(2_000_000_000, 2_000_000_000, 250.0, corpus="big.txt"))
        assert reporter.encoding.progress is None  # the bar goes; one line stays
    assert "encoded big.txt into the cache: 2.0 GB in 0:08 (250 MB/s)" in buffer.getvalue()
    # Piped, or quiet: no bar; piped output keeps the one line.
    _, out = report(
        CorpusEncoding(1_000, 2_000, 1.0, corpus="big.txt"),
        CorpusEncoding(2_000, 2_000, 1.0, corpus="big.txt"),
        quiet=False,
    )
    assert out.count("encoded big.txt") == 1 and "%" not in out
    _, out = report(CorpusEncoding(2_000, 2_000, 1.0, corpus="big.txt"), quiet=True)
    assert out == ""


def test_ctrl_c_while_a_large_corpus_is_encoded_exits_130_and_keeps_nothing(
    capsys, tmp_path, corpus_file, monkeypatch
):
    from shakespeare_tui.core.text import corpus
    from shakespeare_tui.core.text import encode as corpus_encode

    monkeypatch.setattr(corpus, "MAP_ABOVE_BYTES", 0)
    monkeypatch.setattr(corpus_encode, "PIECE", 4099)
    monkeypatch.setattr(corpus_encode, "PROGRESS_EVERY_S", 0.0)
    real = corpus_encode.Encoder._report

    def interrupted(self, seconds):
        real(self, seconds)
        os.kill(os.getpid(), signal.SIGINT)  # the person's Ctrl+C, after the first piece

    monkeypatch.setattr(corpus_encode.Encoder, "_report", interrupted)
    code, out, err = cli(capsys, *TRAIN, "--corpus", corpus_file, "--data-dir", tmp_path)
    assert code == 130, err
    assert err.count("\n") == 1 and "stopped while encoding" in err and "nothing was kept" in err
    assert [p.name for p in (tmp_path / "cache" / "corpora").iterdir()] == ["keys"]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
