"""``gradfit fit --distributed`` in each of the processes ``torchrun`` starts.

Every process runs the same command. An error that every process meets alike (a bad
file, a bad option, a diverged run) is said once, by rank 0; every process exits with
its code. A lost process is said by each survivor, since rank 0 may be the one lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

from gradfit.cli.exits import CommandError, Exit, as_command_error
from gradfit.errors import PeerLostError


@contextlib.contextmanager
def as_rank() -> Iterator[bool]:
    """Run the body as this rank; yields whether it is rank 0 (the one that writes).

    ``torchrun`` stops the other processes with SIGTERM once one has failed: that
    ends this one with a :class:`~gradfit.errors.PeerLostError` too (a line and an
    exit code, not a silent death), between two steps of Python code.
    """
    rank = int(os.environ.get("RANK", "0"))
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        yield rank == 0
    except (Exception, KeyboardInterrupt) as exc:
        error = as_command_error(exc)
        if error is None:
            raise
        if isinstance(exc, PeerLostError):
            lost = CommandError(f"process {rank}: {error.format_message()}", Exit.FAILURE)
            lost.show()
            # At once: tearing down the process group waits on the peers that are gone
            # (seconds). Whatever this rank wrote (the checkpoint) is already on disk.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(lost.exit_code)
        if rank != 0:
            _end_quietly_after(GRACE_S, error.exit_code)
        if int(os.environ.get("WORLD_SIZE", "1")) == 1:
            raise error from None
        error.show()
        _end_quietly_after(LEAD_GRACE_S, error.exit_code)
    finally:
        signal.signal(signal.SIGTERM, previous)


GRACE_S = 10.0
"""How long a rank other than 0 that met an error waits for rank 0 to say it."""

LEAD_GRACE_S = 2.0
"""How long rank 0, having said an error, waits for the others to meet it too."""


def _end_quietly_after(seconds: float, code: int) -> None:
    """End this rank with ``code`` after ``seconds``, or at the launcher's SIGTERM.

    An error that every rank meets alike (a bad file) is met by each a little sooner
    or later, and the launcher stops the others (SIGTERM) as soon as one has ended.
    Were a rank to end at once, a slower rank would be stopped before it met the error
    and say that it was stopped; were rank 0 the slower, the error would go unsaid.
    So rank 0 says the error and waits :data:`LEAD_GRACE_S` for the others to meet
    it, and the others say nothing and wait up to :data:`GRACE_S` for rank 0; a
    SIGTERM meanwhile is the launcher's cleanup and ends the rank quietly.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(code))
    time.sleep(seconds)
    raise SystemExit(code) from None


def _stopped(signum: int, frame: Any) -> None:
    from gradfit.cli.launch import launched

    launcher = "gradfit" if launched() else "torchrun"
    report = "" if launched() else " (see its report below)"
    raise PeerLostError(
        f"stopped by SIGTERM: {launcher} stops every process once one has failed{report}; "
        "rerun with --resume to continue from the last checkpoint"
    )
