"""JAX with the whole loop compiled: ``jax.lax.scan`` over the steps, so that Python is
called once per run (full batch) or once per epoch (minibatches: a scan over the epoch's
full batches of one seeded permutation, then the last, smaller batch).

Compiled ahead of time outside the timing; the seconds are reported apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from contenders import jax_common
from workloads import Array, Workload

LABEL = "JAX (lax.scan)"
missing = jax_common.missing


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    jax = jax_common.setup()
    import jax.numpy as jnp
    import optax

    loss, optimizer = jax_common.model(w)

    def update(carry: Any, XY: Any) -> Any:
        params, state = carry
        value, grads = jax.value_and_grad(loss)(params, *XY)
        updates, state = optimizer.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), value

    Xd, Yd = jnp.asarray(X), jnp.asarray(Y)
    params = [jnp.asarray(p) for p in init]
    state = optimizer.init(params)
    n, B = X.shape[0], w.batch_size or X.shape[0]

    def whole_run(params: list[Any], state: Any, X: Any, Y: Any) -> Any:
        def full_step(carry: Any, _: Any) -> Any:
            return update(carry, (X, Y))

        return jax.lax.scan(full_step, (params, state), None, length=w.epochs)

    def epoch(params: list[Any], state: Any, X: Any, Y: Any, batches: Any, last: Any) -> Any:
        def batch_step(carry: Any, rows: Any) -> Any:
            return update(carry, (X[rows], Y[rows]))

        carry, values = jax.lax.scan(batch_step, (params, state), batches)
        if last.shape[0]:
            carry, _value = update(carry, (X[last], Y[last]))
        return carry, values

    n_full = n // B
    if n <= B:
        compiled, seconds = jax_common.compiled(whole_run, params, state, Xd, Yd)
    else:
        batches = jnp.zeros((n_full, B), jnp.int64)
        last = jnp.zeros(n - n_full * B, jnp.int64)
        compiled, seconds = jax_common.compiled(epoch, params, state, Xd, Yd, batches, last)

    def run() -> list[Array]:
        if n <= B:
            (p, _), _ = compiled(params, state, Xd, Yd)
            jax.block_until_ready(p)
            return jax_common.to_numpy(p)
        p, s = params, state
        rng = np.random.default_rng(w.seed)
        for _ in range(w.epochs):
            order = rng.permutation(n)
            batches = jnp.asarray(order[: n_full * B].reshape(n_full, B))
            (p, s), _ = compiled(p, s, Xd, Yd, batches, jnp.asarray(order[n_full * B :]))
        jax.block_until_ready(p)
        return jax_common.to_numpy(p)

    run.compile_seconds = seconds  # type: ignore[attr-defined]
    return run
