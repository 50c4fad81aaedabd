"""Which of two ways of running a step is faster here and now, measured as the steps run.

A step on two threads beats one thread only while both cores are free: when other
processes hold them (a loaded machine, or several fits side by side, as a parallel
grid search runs them), each step waits at its hand-off for a thread the system has not
scheduled, and an ensemble's fit measured 1.2–12× slower on two threads than on one.
Where the two ways compute the same numbers (:mod:`gradfit.engine.batch_parts`, the
kernel's members on the cores), the choice can follow the clock: :class:`Pace` runs the
way that has been faster over its last few steps, and tries the other now and then, less
often the longer the choice holds.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections import deque
from typing import Any

SERIAL, PARALLEL = 0, 1
"""The two ways: one thread, or the cores."""


def crowded() -> bool:
    """Whether other processes fill the cores: the system's load over the last minute
    (which counts this process's own thread too) reaches the cores and a half. Then a
    try on two threads would cost many steps' worth (on the 2-core machine at load 4.5,
    the tries alone made a large ensemble's fit 15–30% slower than on one thread)."""
    load = getattr(os, "getloadavg", None)
    return load is not None and load()[0] >= cores() + 0.5


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the BLAS libraries loaded now, made once: finding them
    (every loaded library's symbols) cost 0.4–3 ms a time, a fifth of a small fit."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """A context in which NumPy's (and SciPy's) BLAS runs on one thread: for products too
    small to share, where a second thread only waits, or takes the core another needs.
    The libraries are those loaded at the first call (NumPy's and SciPy's, which
    gradfit's estimators import before they train)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class Pace:
    """The recent seconds per step of each way, and the choice between them.

    Parameters
    ----------
    every : int
        Steps after which the way not chosen is tried again (for ``tries`` steps), so that
        a change in the machine's load shows. Each try that leaves the choice as it was
        doubles the wait, up to ``longest`` steps: a try of the slower way costs its
        difference, which on a crowded machine is many steps' worth.
    tries : int
        Steps of each try.
    window : int
        The steps over which each way's pace is taken (:meth:`pace`).
    longest : int
        The longest wait between tries.
    """

    def __init__(
        self, every: int = 64, tries: int = 2, window: int = 4, longest: int = 2048
    ) -> None:
        self.every, self.tries, self.longest = every, tries, longest
        self.seconds: list[deque[float]] = [deque(maxlen=window), deque(maxlen=window)]
        self.steps = 0
        self.warm = [False, False]
        self.faster: int | None = None
        self.wait, self.next_try = every, every

    def pace(self, way: int) -> float:
        """Seconds per step of ``way``: the least over its last steps (``inf`` before any).

        The least, not the mean: one step that waited for a thread the system had not yet
        scheduled (an OpenBLAS thread still spinning on the other core just after a product
        on two threads cost the next parallel step 4.5–8 ms, against 0.6 ms) says nothing of
        the next, and with the mean it kept the cores untried for a whole fit; a machine
        whose cores are taken makes every step of the window slow."""
        times = self.seconds[way]
        return min(times) if times else math.inf

    def choose(self) -> int:
        """The way of the next step: each in turn until both have a pace (the cores
        first), then the faster, or the other while it is tried; but the cores are not
        tried while other processes fill them (:func:`crowded`)."""
        for way in (PARALLEL, SERIAL):
            if not self.seconds[way]:
                return SERIAL if way == PARALLEL and crowded() else way
        faster = PARALLEL if self.pace(PARALLEL) <= self.pace(SERIAL) else SERIAL
        if faster != self.faster:  # a new choice: try the other again soon
            self.faster, self.wait = faster, self.every
            self.next_try = self.steps + self.wait
        if self.steps >= self.next_try + self.tries:  # a try that changed nothing
            self.wait = min(2 * self.wait, self.longest)
            self.next_try = self.steps + self.wait
        way = 1 - faster if self.steps >= self.next_try else faster
        return SERIAL if way == PARALLEL and faster != PARALLEL and crowded() else way

    def record(self, way: int, seconds: float, steps: int = 1) -> None:
        """``way`` took ``seconds`` for ``steps`` steps. A way's first call is not counted:
        it starts threads, loads compiled code and fills caches."""
        self.steps += steps
        if not self.warm[way]:
            self.warm[way] = True
            return
        self.seconds[way].append(seconds / steps)
