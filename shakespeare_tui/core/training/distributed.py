"""Many processes, one run: what torchrun's processes agree on, and how.

torchrun starts one process per GPU (or several on a CPU), on one machine or many, and tells
each who it is in its environment: RANK (0 … WORLD_SIZE-1 over all machines), LOCAL_RANK (on
this machine), LOCAL_WORLD_SIZE, and MASTER_ADDR/MASTER_PORT (its rendezvous store).
`Ranks.from_env()` reads them; a process started without torchrun is a job of one, and every
method here then costs nothing and does what one process always did.

One rule each, all here:
- windows: every rank draws the job's whole batch from one generator, seeded alike, and takes
  rows rank, rank+N, … (`RankBatches`, in rank_views.py), so N processes × B windows train on
  exactly the windows one process × N·B would, and the data generator's state is the same on
  every rank. Started by hand (torchrun, --nproc) each process trains on --batch-size windows;
  started with a split layout in LAYOUT_ENV (core/layout.py; benchmarks/layouts.py does, the
  rule does not choose processes today) the processes share the run's --batch-size windows
  of a step, so the job trains on the recipe one process would;
- weights: DistributedDataParallel averages the gradients; DDP itself broadcasts rank 0's
  weights when it wraps the model;
- stopping: before every step one all-reduce of [stop asked, rank 0's clock] (`agree`), so a
  Ctrl+C that reaches any rank stops all of them before the same step, and a --max-minutes
  budget ends on rank 0's clock;
- rank 0 alone validates, samples and writes the run folder; the others wait for it and take
  its progress (`from_rank0`), so none runs ahead of a save;
- a UserError during setup on any rank is raised on every rank (`agreed`): all exit 2;
- a rank that dies: a collective fails on the others (RankFailed), which stop saving nothing.

torch is imported inside the methods: the CLI asks `env_rank()` before it prints an error,
and must not load torch (a second) to do so.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, TypeVar, cast

from shakespeare_tui.core.errors import UserError, flag_name
from shakespeare_tui.core.layout import LAYOUT_ENV, Layout
from shakespeare_tui.core.training.rank_views import RankBatches, SilentFolder

if TYPE_CHECKING:  # for their types alone: torch loads only when a job needs it (see above)
    import torch
    from torch.distributed import Store

    from shakespeare_tui.core.config import TrainConfig
    from shakespeare_tui.core.runs.folders import RunFolder
    from shakespeare_tui.core.runs.lock import RunLock
    from shakespeare_tui.core.runs.progress import RunProgress
    from shakespeare_tui.core.text.batches import TextData

T = TypeVar("T")

# The longest one rank waits for another: rank 0 validating, sampling and saving while the
# others wait, or a rank that hangs. gloo and NCCL then raise and the job ends (exit 1).
TIMEOUT_ENV = "SHAKESPEARE_TUI_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 600.0
# After a collective fails, how long survivors wait for each other to answer the roll call.
ROLL_CALL_S = 2.0
_KEY = "shakespeare-tui"


def env_rank(env: Mapping[str, str] = os.environ) -> int:
    """This process's rank under torchrun (0 without it), from the environment alone."""
    try:
        return int(env["RANK"]) if launched_by_torchrun(env) else 0
    except ValueError:
        return 0


def launched_by_torchrun(env: Mapping[str, str] = os.environ) -> bool:
    return all(name in env for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


class RankFailed(Exception):
    """Another process of the job stopped (killed, crashed, hung): this one stops too.

    `reporter` is whether this process says so (the lowest rank still running), so a job
    of eight prints one line, not seven; `run_dir` is filled in by the engine.
    """

    def __init__(self, message: str, reporter: bool) -> None:
        super().__init__(message)
        self.reporter = reporter
        self.run_dir: str | None = None


class Ranks:
    """This process's place in the job, and the job's collectives (a job of one by default)."""

    def __init__(
        self,
        rank: int = 0,
        world: int = 1,
        local_rank: int = 0,
        local_world: int = 1,
        launched: bool = False,
        layout: Layout | None = None,
    ) -> None:
        self.rank, self.world = rank, world
        self.local_rank, self.local_world = local_rank, local_world
        self.launched = launched  # under torchrun: a process group, DDP, even for world 1
        # The layout `train` chose and started this job with (None: started by hand).
        self.layout = layout
        self._store: Store | None = None
        self._started = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Ranks:
        if not launched_by_torchrun(env):
            return cls()
        try:
            rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
            local_rank = int(env["LOCAL_RANK"])
            local_world = int(env.get("LOCAL_WORLD_SIZE", world))
        except ValueError:
            raise UserError("RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers") from None
        layout = Layout.from_env(env.get(LAYOUT_ENV))
        if layout is not None and (layout.processes != world or world != local_world):
            layout = None  # not the job it was chosen for: as started by hand
        return cls(rank, world, local_rank, local_world, launched=True, layout=layout)

    @property
    def single_machine(self) -> bool:
        return self.local_world == self.world

    @property
    def writer(self) -> bool:
        """Whether this process writes the run folder (rank 0 alone does)."""
        return self.rank == 0

    @property
    def split(self) -> bool:
        """Whether the processes share a step's --batch-size windows (else each has its own)."""
        return self.layout is not None and self.layout.split and self.world > 1

    def rows(self, batch_size: int) -> int:
        """The windows this process trains on in a step of the run's `batch_size`."""
        return batch_size // self.world if self.split else batch_size

    def job_batch(self, batch_size: int) -> int:
        """The windows the whole job trains on in a step of the run's `batch_size`."""
        return batch_size if self.split else batch_size * self.world

    def layout_for(self, config: TrainConfig, device_type: str) -> Layout:
        """How this process uses the machine for `config`: the layout the job was started
        with; a job started by hand as torchrun gave it; alone (`train`, the app, the queue),
        the rule's."""
        if self.layout is not None:
            return self.layout
        if self.launched:
            return Layout(
                self.local_world,
                self.threads(config.threads) or 1,
                False,
                "as torchrun started it",
                forced=True,
            )
        # Not at the top: it reads the model's size (core.model), and the CLI imports this
        # module before torch is needed.
        from shakespeare_tui.core.training.run_layout import run_layout

        return run_layout(config, device_type)

    def describe(self, device_label: str) -> str:
        """The device line of a job of many processes: "CPU · 1 thread × 2 processes", and
        ", each step's windows split" where they share the run's batch."""
        if not self.launched:
            return device_label
        processes = f"{self.world} process{'es' if self.world != 1 else ''}"
        split = ", each step's windows split" if self.split else ""
        return f"{device_label} × {processes}{split}"

    # -- starting and ending ---------------------------------------------------------------

    def start(self) -> None:
        """Join the process group torchrun's rendezvous set up (MASTER_ADDR, MASTER_PORT)."""
        if not self.launched or self._started:
            return
        import torch
        import torch.distributed as dist

        # One group, two backends: NCCL for CUDA tensors (DDP's gradients), gloo for CPU ones
        # (the stop flag, objects), so agreeing on a stop never waits for the GPU.
        backend = "gloo"
        if torch.cuda.is_available() and dist.is_nccl_available():
            backend = "cpu:gloo,cuda:nccl"
            if self.local_rank < torch.cuda.device_count():
                torch.cuda.set_device(self.local_rank)  # before NCCL: one GPU per process
        seconds = _timeout_s()
        try:
            dist.init_process_group(backend, timeout=datetime.timedelta(seconds=seconds))
        except (RuntimeError, ValueError) as exc:
            raise RankFailed(
                f"could not join the other processes: {str(exc).splitlines()[0]}", self.writer
            ) from None
        self._started = True
        try:  # torchrun's store outlives a dead worker: the survivors' roll call uses it
            self._store = dist.PrefixStore(
                f"{_KEY}/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}",
                dist.distributed_c10d._get_default_store(),
            )
            self._store.set(f"who/{self.rank}", f"pid {os.getpid()} on {socket.gethostname()}")
        except (AttributeError, RuntimeError):
            self._store = None

    def close(self) -> None:
        if self._started:
            import torch.distributed as dist

            self._started = False
            with contextlib.suppress(RuntimeError, ValueError):
                dist.destroy_process_group()

    # -- where and how fast ----------------------------------------------------------------

    def place(self, device: torch.device) -> torch.device:
        """The device of this process: cuda:LOCAL_RANK under torchrun (one GPU per process)."""
        if not self.launched:
            return device
        import torch

        if device.type == "mps":
            raise UserError(
                "training in many processes runs on CUDA (NCCL) or the CPU (gloo); "
                "set {device} to cuda or cpu",
                names=["device"],
            )
        if device.type != "cuda":
            return device
        count = torch.cuda.device_count()
        if device.index is not None and device.index != self.local_rank:
            raise UserError(
                f"under torchrun each process takes cuda:LOCAL_RANK (this one cuda:"
                f"{self.local_rank}); set {{device}} to cuda",
                names=["device"],
            )
        if self.local_rank >= count:
            raise UserError(
                f"process {self.local_rank} on this machine has no GPU of its own (there are "
                f"{count}): start at most {count} processes per machine"
            )
        return torch.device("cuda", self.local_rank)

    def threads(self, requested: int | None) -> int | None:
        """CPU threads: the person's, else the layout's, else this machine's cores shared
        among its processes.

        (torchrun sets OMP_NUM_THREADS=1 in every process; that leaves cores idle when there are
        fewer processes than cores, and `--threads` says otherwise when a person wants it.)
        """
        if requested or not self.launched:
            return requested
        if self.layout is not None:
            return self.layout.threads
        from shakespeare_tui.core.device import cpu_threads

        return max(1, cpu_threads() // max(1, self.local_world))

    def seed_dropout(self, seed: int) -> None:
        """Each rank its own dropout masks (rank 0 keeps the stream one process would have)."""
        if self.rank:
            import torch

            torch.manual_seed(seed + self.rank)

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """The module to train with: DDP around the model on a job, the model itself alone."""
        if not self.launched:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def own_folder(self, folder: RunFolder) -> RunFolder | SilentFolder:
        """The run folder as this rank uses it: rank 0 alone writes the run."""
        if not self.writer:
            return SilentFolder(folder)
        folder.path.mkdir(parents=True, exist_ok=True)
        return folder

    def shard(self, data: TextData) -> TextData | RankBatches:
        """This rank's rows of `data`, built for the job's batch (`job_batch`)."""
        return RankBatches(data, self.rank, self.world) if self.launched else data

    # -- agreeing --------------------------------------------------------------------------

    def agree(self, stop: bool, elapsed_s: float) -> tuple[bool, float]:
        """(whether any rank was asked to stop, rank 0's training time): once per step."""
        if not self.launched:
            return stop, elapsed_s
        import torch
        import torch.distributed as dist

        mine = torch.tensor([float(stop), elapsed_s if self.writer else 0.0], dtype=torch.float64)
        with self.collective():
            dist.all_reduce(mine)
        return bool(mine[0] > 0), float(mine[1])

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """A tensor averaged over the ranks (the logged loss: every rank then sees one value,
        and decides alike whether it diverged)."""
        if not self.launched:
            return value
        import torch.distributed as dist

        total = value.detach().clone()
        with self.collective():
            dist.all_reduce(total)
        return total / self.world

    def largest(self, value: float) -> float:
        """The largest of every rank's `value` (the slowest process's time), on every rank."""
        if not self.launched:
            return value
        import torch
        import torch.distributed as dist

        mine = torch.tensor([value], dtype=torch.float64)
        with self.collective():
            dist.all_reduce(mine, op=dist.ReduceOp.MAX)
        return float(mine[0])

    def from_rank0(self, value: T) -> T:
        """Rank 0's `value` on every rank; the others wait until rank 0 gets here."""
        if not self.launched:
            return value
        import torch
        import torch.distributed as dist

        box: list[T | None] = [value if self.writer else None]
        with self.collective():
            dist.broadcast_object_list(box, src=0, device=torch.device("cpu"))
        return cast(T, box[0])  # rank 0's `value`, unpickled: of its type on every rank

    def gather(self, make: Callable[[], T]) -> list[T] | None:
        """Every rank's `make()`, in rank order, on rank 0 (None elsewhere, and alone, where
        `make` is not called)."""
        if not self.launched:
            return None
        import torch.distributed as dist

        box: list[T | None] | None = [None] * self.world if self.writer else None
        with self.collective():
            dist.gather_object(make(), box, dst=0)
        return cast("list[T] | None", box)  # on rank 0, every rank's make(), unpickled

    def on_rank0(self, work: Callable[[], T], progress: RunProgress) -> T | None:
        """`work()` on rank 0 alone; the others wait for it, then take its result and its
        progress (changed in place), so every rank goes on, or ends, alike."""
        result = work() if self.writer else None
        if not self.launched:
            return result
        result, state = self.from_rank0((result, progress.to_dict()))
        vars(progress).update(state)
        return result

    def agreed(self, work: Callable[[], T]) -> T:
        """`work()` on every rank; a UserError on any rank is raised on every rank."""
        if not self.launched:
            return work()
        import torch.distributed as dist

        result: T | None = None
        problem: UserError | None = None
        try:
            result = work()
        except UserError as exc:
            problem = exc
        said: list[str | None] = [None] * self.world
        with self.collective():
            dist.all_gather_object(said, None if problem is None else problem.worded(flag_name))
        if problem is not None:
            raise problem
        for rank, text in enumerate(said):
            if text:
                raise UserError(f"rank {rank}: {text}")
        return cast(T, result)  # work() returned: no rank, this one included, refused

    @contextlib.contextmanager
    def writer_holds(self, lock: RunLock) -> Iterator[None]:
        """Rank 0 holds the run's lock for the job; a refusal stops every rank."""
        self.agreed(lock.acquire if self.writer else lambda: None)
        try:
            yield
        finally:
            if self.writer:
                lock.release()

    @contextlib.contextmanager
    def collective(self) -> Iterator[None]:
        """Turn a failed collective (a peer gone: killed, crashed, timed out) into RankFailed."""
        try:
            yield
        except RuntimeError as exc:
            import torch

            if not self.launched or isinstance(exc, torch.OutOfMemoryError):
                raise
            raise self._lost(exc) from None

    def _lost(self, error: BaseException) -> RankFailed:
        """Which ranks are gone: the survivors answer a roll call in torchrun's store."""
        gone: list[int] | None = None
        alive: list[int] = [self.rank]
        if self._store is not None:
            try:
                self._store.set(f"alive/{self.rank}", "1")
                deadline = time.monotonic() + ROLL_CALL_S
                while True:
                    alive = [r for r in range(self.world) if self._store.check([f"alive/{r}"])]
                    if len(alive) == self.world or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                gone = [r for r in range(self.world) if r not in alive]
            except RuntimeError:  # the store went with its host
                gone = None
        if gone:
            what = ", ".join(f"rank {r} ({self._who(r)})" for r in gone) + " stopped"
        else:
            what = f"another process of the job failed ({str(error).splitlines()[0][:200]})"
        return RankFailed(what, reporter=self.rank == min(alive))

    def _who(self, rank: int) -> str:
        if self._store is None:
            return "unknown process"
        try:
            return self._store.get(f"who/{rank}").decode()
        except (RuntimeError, AttributeError):
            return "unknown process"


def _timeout_s() -> float:
    try:
        return max(1.0, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S
