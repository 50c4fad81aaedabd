"""What the JAX contenders share: the model, its loss and the optimizer, as a JAX user
writes them (``jax.nn``, ``jax.value_and_grad``, ``optax``), and ahead-of-time compiling.

``jax_enable_x64`` is set so that the float64 workloads run in float64; float32 arrays
stay float32. Adam is ``optax.adam`` (the same algorithm as torch's, the bias correction
applied to ``m`` and ``v`` rather than to the step: equal to rounding).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from typing import Any

from workloads import Array, Workload


def missing() -> str | None:
    for module in ("jax", "optax"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[bench]')"
    return None


def setup() -> Any:
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def model(w: Workload) -> tuple[Callable[..., Any], Any]:
    """``loss(params, X, Y)`` of the workload's network, and its ``optax`` optimizer."""
    import jax
    import jax.numpy as jnp
    import optax

    relu = w.activation == "relu"

    def predict(params: list[Any], X: Any) -> Any:
        A = X
        for i in range(0, len(params), 2):
            A = A @ params[i].T + params[i + 1]
            if relu and i < len(params) - 2:
                A = jax.nn.relu(A)
        return A

    def loss(params: list[Any], X: Any, Y: Any) -> Any:
        R = predict(params, X) - Y
        return jnp.sum(R * R) if w.loss == "sse" else jnp.mean(R * R)

    optimizer = optax.adam(w.lr) if w.optimizer == "adam" else optax.sgd(w.lr)
    return loss, optimizer


def compiled(f: Callable[..., Any], *args: Any, **static: Any) -> tuple[Any, float]:
    """``jax.jit(f)`` compiled ahead of time for ``args``, and the seconds it took."""
    import jax

    start = time.perf_counter()
    ready = jax.jit(f, **static).lower(*args).compile()
    return ready, time.perf_counter() - start


def to_numpy(params: list[Any]) -> list[Array]:
    import numpy as np

    return [np.asarray(p) for p in params]
