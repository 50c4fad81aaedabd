"""gradfit's NumPy engine through its public ``gradfit.engine.train``, compiled kernel off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.engine import MLP, SGD, Adam, train
from workloads import Array, Workload

LABEL = "gradfit NumPy (kernel off)"


def missing() -> str | None:
    return None


def prepare(
    w: Workload, X: Array, Y: Array, init: list[Array], *, kernel: str = "off"
) -> Callable[[], list[Array]]:
    net = MLP.from_parameters(w.sizes, w.activation, init)
    opt: Any = (
        SGD(net.parameters(), lr=w.lr) if w.optimizer == "sgd" else Adam(net.parameters(), lr=w.lr)
    )

    def run() -> list[Array]:
        train(
            net,
            X,
            Y,
            optimizer=opt,
            epochs=w.epochs,
            loss=w.loss,
            batch_size=w.batch_size,
            rng=np.random.default_rng(w.seed),
            kernel=kernel,
        )
        return net.parameters()

    return run
