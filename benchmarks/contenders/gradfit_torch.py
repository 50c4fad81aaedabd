"""gradfit's torch backend through its public ``gradfit.torch_backend.train``."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np

from gradfit.engine import MLP
from workloads import Array, Workload

LABEL = "gradfit torch"


def missing() -> str | None:
    if importlib.util.find_spec("torch") is None:
        return "PyTorch is not installed"
    return None


def prepare(
    w: Workload, X: Array, Y: Array, init: list[Array], *, precision: str = "full"
) -> Callable[[], list[Array]]:
    from gradfit.torch_backend import to_torch, train

    module = to_torch(MLP.from_parameters(w.sizes, w.activation, init))
    # "manual" is the walk-through's p.sub_(lr * p.grad), as the hand-written torch loop.
    optimizer = "manual" if w.optimizer == "sgd" else "adam"

    def run() -> list[Array]:
        train(
            module,
            X,
            Y,
            optimizer=optimizer,
            lr=w.lr,
            epochs=w.epochs,
            loss=w.loss,
            batch_size=w.batch_size,
            rng=np.random.default_rng(w.seed),
            precision=precision,
        )
        return [p.detach().numpy() for p in module.parameters()]

    return run
