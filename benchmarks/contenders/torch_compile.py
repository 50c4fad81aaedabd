"""The hand-written PyTorch loop with its model ``torch.compile``'d (inductor, C++ on the
CPU): compiled outside the timing for each batch shape; the seconds are reported apart."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable

from contenders import torch_loop
from workloads import Array, Workload

LABEL = "PyTorch + torch.compile"


def missing() -> str | None:
    if importlib.util.find_spec("torch") is None:
        return "PyTorch is not installed"
    if shutil.which("g++") is None and shutil.which("c++") is None:
        return "torch.compile needs a C++ compiler on the CPU (none found)"
    return None


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    return torch_loop.prepare(w, X, Y, init, compiled=True)
