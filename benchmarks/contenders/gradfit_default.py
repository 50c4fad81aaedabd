"""gradfit's default path: ``gradfit.engine.train`` as a user calls it, which steps with the
compiled kernel where it covers the model and is faster (``kernel="auto"``), else NumPy.

The kernel's first compilation is cached on disk and happens in the warm-up here;
``run.py`` measures its cost apart, in fresh processes (the ``first-run`` table).
"""

from __future__ import annotations

from collections.abc import Callable

from contenders import gradfit_numpy
from workloads import Array, Workload

LABEL = "gradfit (default path)"


def missing() -> str | None:
    return None


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    return gradfit_numpy.prepare(w, X, Y, init, kernel="auto")
