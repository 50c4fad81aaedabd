"""``gradfit fit --distributed --nproc-per-node N``: start the ranks on this machine.

``torchrun`` reports any failed rank with a Python traceback of its own
(``ChildFailedError``) and exits 1, whatever code the ranks gave. Here gradfit starts the
same processes with the agent ``torchrun`` runs (``torch.distributed``'s elastic launcher,
a rendezvous on a free port of this machine, as ``torchrun --standalone``), lets the ranks
say what went wrong (rank 0 one line; each survivor of a lost process its own), and exits
with the documented code of the first rank that failed (3 for bad data, 5 for a diverged
run, 130 for Ctrl-C) — no traceback, no report of the agent's.

Each rank runs ``python -m gradfit`` with the same arguments, so it runs the same ``fit``;
:data:`LAUNCHED` in its environment tells it that its processes were started for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import uuid
from collections.abc import Iterator, Sequence

from gradfit.cli.exits import CommandError, Exit

LAUNCHED = "GRADFIT_LAUNCHED"
"""Set in each rank's environment: the run's id (the ranks were started by gradfit)."""


def launched() -> bool:
    """Whether this process is a rank that ``--nproc-per-node`` started."""
    return LAUNCHED in os.environ


def under_torchrun() -> bool:
    """Whether another launcher (``torchrun``) started this process as one of its ranks."""
    return "TORCHELASTIC_RUN_ID" in os.environ and not launched()


def launch(nproc: int, argv: Sequence[str]) -> int:
    """Run ``python -m gradfit ARGV`` in ``nproc`` ranks on this machine; the exit code.

    Parameters
    ----------
    nproc : int
        How many processes (ranks) to start.
    argv : sequence of str
        The command line after ``gradfit`` (``["fit", "data.npy", ...]``); each rank
        runs it as it is.

    Returns
    -------
    int
        0 when every rank ended well; 1 when a rank was ended by a signal (``kill -9``,
        out of memory); else the code of the first rank, in rank order, that failed.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    run_id = uuid.uuid4().hex
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=run_id,
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",
        max_restarts=0,
        monitor_interval=0.1,
    )
    with _quiet_agent(), _rank_environment(run_id, nproc):
        try:
            elastic_launch(config, sys.executable)("-m", "gradfit", *argv)
        except ChildFailedError as failed:
            return _exit_code({rank: f.exitcode for rank, f in failed.failures.items()})
        except SignalException as stopped:
            return Exit.INTERRUPTED if stopped.sigval == signal.SIGINT else Exit.FAILURE
    return Exit.OK


def _exit_code(codes: dict[int, int]) -> int:
    """The run's exit code from the failed ranks' (a negative code: ended by a signal).

    A rank ended by a signal from outside (``kill -9``, the out-of-memory killer) is said
    here, since it could say nothing; the agent's own SIGTERM to the others is not.
    """
    # The agent's SIGTERM: a rank's own death by it, or gradfit's exit for it (Terminated).
    stopped = {-signal.SIGTERM, Exit.TERMINATED}
    killed = [rank for rank in sorted(codes) if codes[rank] < 0 and codes[rank] not in stopped]
    said = [rank for rank in sorted(codes) if codes[rank] > 0 and codes[rank] not in stopped]
    if said and not killed:
        return codes[said[0]]
    rank = (killed or sorted(codes))[0]
    number = signal.SIGTERM if codes[rank] == Exit.TERMINATED else -codes[rank]
    CommandError(
        f"process {rank} was ended by {_signal_name(number)} (killed, or out of "
        "memory); rerun with --resume to continue from the last checkpoint",
        Exit.FAILURE,
    ).show()
    return Exit.FAILURE


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


@contextlib.contextmanager
def _rank_environment(run_id: str, nproc: int) -> Iterator[None]:
    """Each rank's environment (the ranks inherit this process's) while they run.

    Marks the ranks as gradfit's; splits the CPU's threads between them unless
    ``OMP_NUM_THREADS`` is set (torchrun gives each one); on Linux, joins the ranks over
    the loopback interface unless ``GLOO_SOCKET_IFNAME`` is set (they share a machine).
    """
    chosen = {LAUNCHED: run_id}
    if "OMP_NUM_THREADS" not in os.environ:
        chosen["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))
    if sys.platform.startswith("linux") and "GLOO_SOCKET_IFNAME" not in os.environ:
        chosen["GLOO_SOCKET_IFNAME"] = "lo"
    saved = {name: os.environ.get(name) for name in chosen}
    os.environ.update(chosen)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _quiet_agent() -> Iterator[None]:
    """Keep the agent's own log lines (workers started, failed, stopped) off the screen:
    the ranks say what matters, in gradfit's words."""
    loggers = [logging.getLogger(f"torch.distributed.{part}") for part in ("elastic", "launcher")]
    handler = logging.NullHandler()
    propagate = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, before in zip(loggers, propagate, strict=True):
            logger.removeHandler(handler)
            logger.propagate = before
