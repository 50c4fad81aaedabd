"""JAX: not a dependency of gradfit, and not installed on the machines this project uses.

Listed so that the table says so rather than leaving it out silently.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from workloads import Array, Workload

LABEL = "JAX"


def missing() -> str | None:
    if importlib.util.find_spec("jax") is None:
        return "JAX is not installed"
    return "JAX is installed, but no JAX contender is written yet"


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    raise NotImplementedError(missing())
