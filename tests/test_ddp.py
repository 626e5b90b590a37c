"""Training in many processes under torchrun (CPU, gloo, the tiny model, one thread each).

The flags first (no process started): none of our train flags is one torchrun takes for its
own, and `--nproc` hands torchrun every flag as parsed. Then a few real jobs, each a subprocess
with a timeout (SHAKESPEARE_TUI_DIST_TIMEOUT bounds any wait between ranks too): two processes
end with identical weights and write the run once; interrupted and resumed they end bit for
bit where an uninterrupted job does; a killed rank ends the job with exit 1, one line and an
intact checkpoint; two one-process "nodes" on localhost train what one process does with
twice the batch.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from shakespeare_tui.cli import build_parser, main
from shakespeare_tui.cli.torchrun import LAUNCHER_ONLY, torchrun_argv
from shakespeare_tui.cli.train_flags import train_parser

pytestmark = pytest.mark.heavy(50)

ROOT = Path(__file__).resolve().parents[1]
STEPS = 400  # the uninterrupted job's: long enough (~2 s) to interrupt it on the way
# bf16 off: the jobs' weights are compared with one process's, which bf16 rounding would spoil
# on a CPU where autocast defaults on.
JOB = ["--preset", "tiny", "--device", "cpu", "--threads", "1", "--no-bf16", "--sample-length", "0"]
JOB += [
    "--dropout",
    "0.1",
    "--eval-every",
    "50",
    "--epochs",
    "1000",
    "--patience",
    "1000",
    "--quiet",
]  # dropout: per-rank RNG matters
TIMEOUT_S = 120


def torchrun_parser():
    from torch.distributed.run import get_args_parser

    return get_args_parser()


# -- the flags ---------------------------------------------------------------------------


def our_flags() -> list[list[str]]:
    """Every train flag as a person types it (with a value where it takes one), bar the two
    that never reach torchrun's processes."""
    flags = []
    for action in train_parser()._actions:
        if action.dest in ("help", *LAUNCHER_ONLY):
            continue
        for flag in action.option_strings:
            if flag != "--run":
                flags.append([flag] if action.nargs == 0 else [flag, "1"])
    return flags


def test_torchrun_takes_none_of_our_train_flags():
    head = ["--standalone", "--nproc-per-node=2", "-m", "shakespeare_tui"]
    flags = our_flags()
    assert ["--name", "1"] in flags and ["--no-bf16"] in flags and ["--data-dir", "1"] in flags
    ours = ["train", *(word for flag in flags for word in flag)]
    ours += [f"{flag[0]}={flag[1]}" for flag in flags if len(flag) == 2]  # --flag=value too
    parsed = torchrun_parser().parse_args([*head, *ours])
    assert parsed.training_script == "shakespeare_tui"
    assert parsed.training_script_args == ours
    baseline = torchrun_parser().parse_args([*head, "train"])
    assert {k: v for k, v in vars(parsed).items() if k != "training_script_args"} == {
        k: v for k, v in vars(baseline).items() if k != "training_script_args"
    }


@pytest.mark.parametrize("flag", ["--run", "--nproc"])
def test_torchrun_claims_the_flags_that_stay_here(flag, capsys):
    """Why --name and not --run (torchrun reads --run as --run-path), and why --nproc is for
    `shakespeare-tui train` alone (torchrun reads it as --nproc-per-node)."""
    with pytest.raises(SystemExit):
        torchrun_parser().parse_args(["--standalone", "-m", "shakespeare_tui", "train", flag, "x"])
    assert "ambiguous option" in capsys.readouterr().err


def test_run_stays_a_name_for_the_run_without_torchrun():
    for flag in ("--run", "--name"):
        assert build_parser().parse_args(["train", flag, "r1"]).run == "r1"


def test_nproc_hands_torchrun_every_flag_as_parsed():
    argv = ["--data-dir", "/tmp/d", "train", "--nproc", "3", "--run", "r1", "--lr", "0.002"]
    argv += ["--no-bf16", "--quiet", "--corpus", "-odd name.txt", "--preset", "tiny"]
    args = build_parser().parse_args(argv)
    words = torchrun_argv(args, args.nproc)
    launched = torchrun_parser().parse_args(words)
    assert launched.nproc_per_node == "3" and launched.standalone and launched.module
    assert "--name=r1" in words and not any(w.startswith("--nproc=") for w in words)
    again = build_parser().parse_args(launched.training_script_args)
    expected = {**vars(args), "nproc": None}
    assert vars(again) == expected


def test_each_rank_takes_its_rows_of_one_batch():
    from shakespeare_tui.core.text.batches import TextData
    from shakespeare_tui.core.training.rank_views import RankBatches

    codes = torch.randint(0, 50, (5000,)).numpy()

    def data(batch):
        return TextData(codes, seq_len=20, batch_size=batch, val_fraction=0.1, device="cpu", seed=3)

    whole = data(8).batch()
    parts = [RankBatches(data(8), rank, 2).batch() for rank in (0, 1)]
    assert all(p[0].shape == (4, 20) for p in parts)
    assert torch.equal(parts[0][0], whole[0][0::2]) and torch.equal(parts[1][1], whole[1][1::2])


# -- jobs --------------------------------------------------------------------------------


def env() -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),  # this checkout, whatever is installed
        "SHAKESPEARE_TUI_DIST_TIMEOUT": "60",  # no rank waits on another for longer
        "OMP_NUM_THREADS": "1",
    }


def start(args: list, **kwargs) -> subprocess.Popen:
    """A job in a session of its own, so a timeout can end every process of it."""
    return subprocess.Popen(
        [str(a) for a in args],
        env=env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the job ran over {TIMEOUT_S} s:\n{out}\n{err}")
    return proc.returncode, out, err


def launcher(home: Path, *args) -> subprocess.Popen:
    return start([sys.executable, "-m", "shakespeare_tui", "--data-dir", home, "train", *args])


def wait_for(pattern: Path, proc: subprocess.Popen) -> Path:
    """The first file matching `pattern` (a glob), once the job has written it."""
    deadline = time.monotonic() + TIMEOUT_S
    while not (
        found := sorted(pattern.parent.parent.glob(f"{pattern.parent.name}/{pattern.name}"))
    ):
        assert proc.poll() is None, f"the job ended first: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {pattern} after {TIMEOUT_S} s"
        time.sleep(0.02)
    return found[0]


def checkpoint(run: Path, name: str = "last.pt") -> dict:
    return torch.load(run / name, weights_only=True)


def same_weights(a: dict, b: dict) -> bool:
    return all(torch.equal(a["weights"][k], b["weights"][k]) for k in a["weights"])


@pytest.fixture(scope="module")
def corpus(corpus_file) -> Path:
    return corpus_file  # conftest's 20,000 characters: 17 steps an epoch for 2 × 16 windows


@pytest.fixture(scope="module")
def whole(tmp_path_factory, corpus) -> Path:
    """Two processes, STEPS steps, uninterrupted: the run folder."""
    home = tmp_path_factory.mktemp("whole")
    code, out, err = finish(
        launcher(home, "--nproc", 2, "--corpus", corpus, *JOB, "--max-steps", STEPS, "--name", "w")
    )
    assert code == 0, err
    assert "2 × 16 windows a step" in out
    assert re.search(r"CPU · 1 thread( · bf16)? × 2 processes", out), out
    return home / "runs" / "w"


def test_two_processes_end_with_the_same_weights_and_write_once(whole):
    saved = checkpoint(whole)
    assert saved["progress"]["step"] == STEPS and saved["resume"]["processes"] == 2
    prints = {r["weights_sha256"] for r in saved["resume"]["ranks"]}
    from shakespeare_tui.core.config import ModelConfig
    from shakespeare_tui.core.model.network import CharRNN
    from shakespeare_tui.core.training.rank_views import weights_sha256

    model = CharRNN(ModelConfig(**saved["model_config"]))
    model.load_state_dict(saved["weights"])
    assert prints == {weights_sha256(model)}  # rank 1's weights are rank 0's
    records = [json.loads(line) for line in (whole / "metrics.jsonl").open()]
    steps = [r["step"] for r in records if r["kind"] == "step"]
    assert steps == sorted(set(steps))  # one writer: no step logged twice
    assert [r["kind"] for r in records].count("finish") == 1
    evaluations = [r["kind"] for r in records].count("epoch")
    assert (whole / "samples.txt").read_text().count("=== ") == evaluations
    assert not (whole / ".lock").exists()


def test_interrupted_and_resumed_ends_where_the_whole_job_does(tmp_path, corpus, whole):
    proc = launcher(tmp_path, "--nproc", 2, "--corpus", corpus, *JOB, "--max-steps", STEPS)
    run = wait_for(tmp_path / "runs" / "*" / "last.pt", proc).parent  # named by rank 0
    proc.send_signal(signal.SIGINT)  # to the launcher: torchrun passes it on
    code, out, err = finish(proc)
    assert code == 130, err
    stopped = checkpoint(run)["progress"]["step"]
    assert 0 < stopped < STEPS, "the job ended before the interrupt reached it"
    assert f"resume: shakespeare-tui train --resume {run.name}" in out and "--nproc 2" in out
    # Resumed by torchrun itself, as a person types it.
    resumed = start(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
        + ["-m", "shakespeare_tui", "--data-dir", tmp_path, "train", "--resume", run.name]
    )
    code, out, err = finish(resumed)
    assert code == 0, err
    for name in ("last.pt", "best.pt"):
        a, b = checkpoint(run, name), checkpoint(whole, name)
        assert a["progress"]["step"] == b["progress"]["step"]
        assert same_weights(a, b), f"{name} differs from the uninterrupted job's"


def test_resumed_by_another_number_of_processes_says_the_data_order_changes(
    tmp_path, whole, capsys
):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(whole, home / "runs" / "w")
    code = main(["--data-dir", str(home), "train", "--resume", "w", "--max-steps", str(STEPS + 5)])
    assert code == 0
    assert "saved by 2 processes, resumed by 1" in capsys.readouterr().out


def rank_pid(root: int, rank: int) -> int | None:
    """The pid of `root`'s descendant whose environment says RANK=`rank`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ:
            return pid
        todo += children.get(pid, [])
    return None


def test_a_killed_rank_ends_the_job_with_one_line_and_the_checkpoint_intact(
    tmp_path, corpus, capsys
):
    from shakespeare_tui.core.model.checkpoint import load_checkpoint

    proc = launcher(tmp_path, "--nproc", 2, "--corpus", corpus, *JOB, "--name", "k")
    run = tmp_path / "runs" / "k"
    wait_for(run / "last.pt", proc)
    # A second trainer on the folder is refused, as for one process.
    assert main(["--data-dir", str(tmp_path), "train", "--resume", "k"]) == 2
    assert "being trained by another process" in capsys.readouterr().err
    pid = rank_pid(proc.pid, 1)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    code, out, err = finish(proc)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"rank 1 (pid {pid} on" in lines[0] and "intact" in lines[0], err
    assert "Traceback" not in out + err
    saved = load_checkpoint(run / "last.pt")
    assert saved.resumable and saved.payload["progress"]["step"] > 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_one_process_nodes_train_what_one_process_does_with_both_batches(tmp_path, corpus):
    """Two "machines" (torchrun --nnodes 2, c10d rendezvous on localhost), each with its own
    data folder: the rank-0 node's holds the run and the other's nothing; batch 8 on each
    trains on the windows of one process's batch 16, so the weights match within rounding."""
    steps = 30
    flags = ["--corpus", corpus, "--preset", "tiny", "--device", "cpu", "--threads", "1"]
    flags += ["--no-bf16", "--sample-length", "0", "--quiet", "--max-steps", steps, "--name", "n"]
    port = free_port()
    nodes = [
        start(
            [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", f"--node-rank={node}"]
            + ["--nproc-per-node=1", "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}"]
            + ["--rdzv-id=ddp-test", "-m", "shakespeare_tui"]
            + ["--data-dir", tmp_path / f"node{node}", "train", *flags, "--batch-size", 8]
        )
        for node in (0, 1)
    ]
    results = [finish(node) for node in nodes]
    assert [code for code, _, _ in results] == [0, 0], results
    runs = [list((tmp_path / f"node{n}" / "runs").iterdir()) for n in (0, 1)]
    assert sorted(len(r) for r in runs) == [0, 1], runs  # only rank 0 writes
    two = checkpoint(next(r[0] for r in runs if r))
    home = tmp_path / "alone"
    assert main(["--data-dir", str(home), "train", *map(str, flags), "--batch-size", "16"]) == 0
    one = checkpoint(home / "runs" / "n")
    assert two["progress"]["step"] == one["progress"]["step"] == steps
    for name, tensor in one["weights"].items():
        assert torch.allclose(two["weights"][name], tensor, rtol=1e-4, atol=1e-5), name


def test_two_processes_sharing_each_step_train_what_one_process_does(tmp_path, corpus):
    """The layout `train` starts on its own for a large enough step (core/layout.py): two
    processes of one thread, each on half of every step's --batch-size windows. The job trains
    on the very windows one process would, so its weights are one process's within rounding."""
    from shakespeare_tui.core.layout import LAYOUT_ENV, Layout

    steps = 30
    flags = ["--corpus", corpus, "--preset", "tiny", "--device", "cpu", "--threads", "1"]
    flags += ["--no-bf16", "--sample-length", "0", "--max-steps", steps, "--name", "n"]
    flags += ["--batch-size", 16]
    split = Layout(2, 1, True, "both cores")
    job = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
        + ["-m", "shakespeare_tui", "--data-dir", tmp_path / "two", "train"]
        + [str(f) for f in flags],
        env={**env(), LAYOUT_ENV: split.to_env()},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    code, out, err = finish(job)
    assert code == 0, err
    assert "2 × 8 windows a step" in out, out
    assert "CPU · 1 thread × 2 processes, each step's windows split" in out, out
    config = json.loads((tmp_path / "two" / "runs" / "n" / "config.json").read_text())
    assert config["train"]["batch_size"] == 16 and "windows split" in config["device"]
    two = checkpoint(tmp_path / "two" / "runs" / "n")
    home = tmp_path / "alone"
    assert main(["--data-dir", str(home), "train", *map(str, flags), "--quiet"]) == 0
    one = checkpoint(home / "runs" / "n")
    assert two["progress"]["step"] == one["progress"]["step"] == steps
    for name, tensor in one["weights"].items():
        assert torch.allclose(two["weights"][name], tensor, rtol=1e-4, atol=1e-5), name
