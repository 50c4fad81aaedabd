"""gradfit's torch backend with ``precision="bf16-mixed"``: bfloat16 products under
``torch.autocast``, float32 parameters, optimizer and loss. Float32 workloads only."""

from __future__ import annotations

from collections.abc import Callable

from contenders import gradfit_torch
from workloads import Array, Workload

LABEL = "gradfit torch bf16-mixed"


def missing() -> str | None:
    return gradfit_torch.missing()


def skip(w: Workload) -> str | None:
    return None if w.dtype == "float32" else "bf16-mixed keeps float32 weights (float64 workload)"


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    return gradfit_torch.prepare(w, X, Y, init, precision="bf16-mixed")
