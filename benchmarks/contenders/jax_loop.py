"""JAX as its users write a training loop: one jitted step (``value_and_grad`` and an
``optax`` update) called from Python, batches gathered on the device by index.

Compiled ahead of time for the workload's shapes outside the timing (the last, smaller
minibatch has a shape of its own, so two compilations); the seconds are reported apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from contenders import jax_common
from workloads import Array, Workload

LABEL = "JAX (jit step loop)"
missing = jax_common.missing


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    jax = jax_common.setup()
    import jax.numpy as jnp
    import optax

    loss, optimizer = jax_common.model(w)

    def step(params: list[Any], state: Any, X: Any, Y: Any, rows: Any) -> Any:
        value, grads = jax.value_and_grad(loss)(params, X[rows], Y[rows])
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    def full_step(params: list[Any], state: Any, X: Any, Y: Any) -> Any:
        value, grads = jax.value_and_grad(loss)(params, X, Y)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    Xd, Yd = jnp.asarray(X), jnp.asarray(Y)
    params = [jnp.asarray(p) for p in init]
    state = optimizer.init(params)
    n, B = X.shape[0], w.batch_size or X.shape[0]
    seconds = 0.0
    if n <= B:
        full, seconds = jax_common.compiled(full_step, params, state, Xd, Yd)
    else:
        sizes = {B, n - (n // B) * B} - {0}
        steps = {}
        for size in sizes:
            rows = jnp.zeros(size, jnp.int64)
            steps[size], took = jax_common.compiled(step, params, state, Xd, Yd, rows)
            seconds += took

    def run() -> list[Array]:
        p, s = params, state
        rng = np.random.default_rng(w.seed)
        for _ in range(w.epochs):
            if n <= B:
                p, s, _ = full(p, s, Xd, Yd)
                continue
            order = jnp.asarray(rng.permutation(n))
            for start in range(0, n, B):
                rows = order[start : start + B]
                p, s, _value = steps[rows.shape[0]](p, s, Xd, Yd, rows)
        jax.block_until_ready(p)
        return jax_common.to_numpy(p)

    run.compile_seconds = seconds  # type: ignore[attr-defined]
    return run
