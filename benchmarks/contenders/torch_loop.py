"""A minimal hand-written PyTorch loop: ``nn.Sequential``, ``F.mse_loss``, ``torch.optim.Adam``.

Plain gradient descent is the walk-through's ``p.sub_(lr * p.grad)`` under ``no_grad``.
Minibatches follow the same NumPy permutation as the other contenders.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from workloads import Array, Workload

LABEL = "hand-written PyTorch"
FIRST_COMPILE: dict[tuple[object, ...], float] = {}
"""Seconds ``torch.compile`` took for each workload and shape, the first time in this process."""


def missing() -> str | None:
    if importlib.util.find_spec("torch") is None:
        return "PyTorch is not installed"
    return None


def prepare(
    w: Workload, X: Array, Y: Array, init: list[Array], *, compiled: bool = False
) -> Callable[[], list[Array]]:
    """The loop; with ``compiled``, the model is ``torch.compile``'d and compiled here, for
    every batch shape, by a forward and backward whose gradients are then dropped.

    torch keeps what it compiled for the rest of the process (keyed by the code and the
    shapes), so a process's first ``prepare`` (the harness's warm-up) compiles and later
    ones mostly find it done; the first one's seconds are reported for every run of the
    workload (``FIRST_COMPILE``).
    """
    import time

    import torch
    import torch.nn.functional as F

    layers: list[torch.nn.Module] = []
    for i, (W, b) in enumerate(zip(init[0::2], init[1::2], strict=True)):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.from_numpy(W).dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if w.activation == "relu" and i < len(init) // 2 - 1:
            layers.append(torch.nn.ReLU())
    eager = torch.nn.Sequential(*layers)
    model: Any = torch.compile(eager, dynamic=False) if compiled else eager
    params = list(eager.parameters())
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    n, B = X.shape[0], w.batch_size or X.shape[0]
    reduction = "sum" if w.loss == "sse" else "mean"
    adam = torch.optim.Adam(params, lr=w.lr) if w.optimizer == "adam" else None
    start = time.perf_counter()
    if compiled:
        for size in {B, n - (n // B) * B} - {0}:
            F.mse_loss(model(Xt[:size]), Yt[:size], reduction=reduction).backward()
        for p in params:
            p.grad = None
    key = (w.key, B, str(X.dtype))
    compile_seconds = FIRST_COMPILE.setdefault(key, time.perf_counter() - start)

    def step(Xb: torch.Tensor, Yb: torch.Tensor) -> float:
        loss = F.mse_loss(model(Xb), Yb, reduction=reduction)
        if adam is None:
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.sub_(w.lr * p.grad)
                    p.grad.zero_()
        else:
            adam.zero_grad()
            loss.backward()
            adam.step()
        return loss.item()

    def run() -> list[Array]:
        rng = np.random.default_rng(w.seed)
        losses = []
        for _ in range(w.epochs):
            order = torch.from_numpy(rng.permutation(n)) if n > B else None
            for start in range(0, n, B):
                if order is None:
                    losses.append(step(Xt, Yt))
                else:
                    rows = order[start : start + B]
                    losses.append(step(Xt[rows], Yt[rows]))
        return [p.detach().numpy() for p in params]

    if compiled:
        run.compile_seconds = compile_seconds  # type: ignore[attr-defined]
    return run
