"""Any other network's step, layer by layer over the batch, compiled: ``MLP.forward`` and
``MLP.backward`` with the dense layers' products as loops over rows (the ``Dense`` algebra
``Z = X Wᵀ + b``, ``dW = Gᵀ X``, ``db = Gᵀ 1``, ``dX = G W``).

The matrix products take their inner loop along the longer side (a dot product when
``n_in`` is the longer, an ``axpy`` over a transposed copy otherwise), so that the
compiler vectorises the inner loops.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from gradfit.engine.kernel.cache import jit
from gradfit.engine.kernel.elements import IDENTITY, SUMS, activate, derivative


@jit(fastmath=SUMS)
def dense_forward(
    A: Any, rows: Any, W: Any, WT: Any, b: Any, Z: Any, code: int
) -> None:  # pragma: no cover - compiled
    """``Dense.forward`` then the activation: ``Z = f(A[rows] Wᵀ + b)``, ``(n, n_out)``."""
    n_out, n_in = W.shape
    if n_in >= n_out:
        for i in range(rows.size):
            r = rows[i]
            for j in range(n_out):
                s = b[j]
                for k in range(n_in):
                    s += A[r, k] * W[j, k]
                Z[i, j] = activate(code, s)
        return
    for k in range(n_in):
        for j in range(n_out):
            WT[k, j] = W[j, k]
    for i in range(rows.size):
        r = rows[i]
        for j in range(n_out):
            Z[i, j] = b[j]
        for k in range(n_in):
            x = A[r, k]
            for j in range(n_out):
                Z[i, j] += x * WT[k, j]
        for j in range(n_out):
            Z[i, j] = activate(code, Z[i, j])


@jit(fastmath=SUMS)
def dense_parameter_gradients(
    G: Any, A: Any, rows: Any, dW: Any, dWT: Any, db: Any
) -> None:  # pragma: no cover - compiled
    """``Dense.parameter_gradients``: ``dW = Gᵀ A[rows]``, ``db = Gᵀ 1``."""
    n_out, n_in = dW.shape
    db[:] = 0
    if n_in >= n_out:
        dW[:] = 0
        for i in range(rows.size):
            r = rows[i]
            for j in range(n_out):
                g = G[i, j]
                db[j] += g
                for k in range(n_in):
                    dW[j, k] += g * A[r, k]
        return
    dWT[:] = 0
    for i in range(rows.size):
        r = rows[i]
        for j in range(n_out):
            db[j] += G[i, j]
        for k in range(n_in):
            x = A[r, k]
            for j in range(n_out):
                dWT[k, j] += x * G[i, j]
    for k in range(n_in):
        for j in range(n_out):
            dW[j, k] = dWT[k, j]


@jit(fastmath=SUMS)
def dense_input_gradient(
    G: Any, W: Any, WT: Any, A: Any, code: int, out: Any
) -> None:  # pragma: no cover - compiled
    """``Dense.backward``'s ``dL/dX = G W``, then the activation's backward:
    ``out = (G W) ⊙ f'(Z)`` with ``A = f(Z)`` the layer's input, ``(n, n_in)``."""
    n_out, n_in = W.shape
    if n_out >= n_in:
        for k in range(n_in):
            for j in range(n_out):
                WT[k, j] = W[j, k]
        for i in range(G.shape[0]):
            for k in range(n_in):
                s = G[i, 0] * WT[k, 0]
                for j in range(1, n_out):
                    s += G[i, j] * WT[k, j]
                out[i, k] = s * derivative(code, A[i, k])
        return
    for i in range(G.shape[0]):
        for k in range(n_in):
            out[i, k] = G[i, 0] * W[0, k]
        for j in range(1, n_out):
            g = G[i, j]
            for k in range(n_in):
                out[i, k] += g * W[j, k]
        for k in range(n_in):
            out[i, k] *= derivative(code, A[i, k])


@jit(fastmath=SUMS)
def loss_gradient(Y_hat: Any, Y: Any, rows: Any, divisor: int) -> float:  # pragma: no cover
    """``MSE``/``SSE.value_and_gradient``: returns ``L = Σ (Ŷ - Y)² / d`` and overwrites
    ``Y_hat`` with ``dL/dŶ = 2 (Ŷ - Y) / d``, ``d`` the loss's ``divisor``."""
    total = 0.0
    scale = 2 / divisor
    for i in range(rows.size):
        r = rows[i]
        for j in range(Y_hat.shape[1]):
            e = Y_hat[i, j] - Y[r, j]
            total += e * e
            Y_hat[i, j] = e * scale
    return total / divisor


@jit(fastmath=SUMS)
def layered_step(
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
) -> float:  # pragma: no cover - compiled
    """``MLP.forward`` and ``MLP.backward`` layer by layer over the batch; returns the loss.

    ``work`` holds each layer's output ``(n, n_out)`` (its gradient, once backward reaches
    it), then a gradient buffer and a transposed-weights buffer.
    """
    n, depth = rows.size, sizes.size - 1
    width = 0
    for l in range(depth):
        width = max(width, sizes[l] * sizes[l + 1])
    outputs = 0
    for l in range(depth):
        outputs += n * sizes[l + 1]
    spare = work[outputs : outputs + n * sizes.max()]
    scratch = work[outputs + n * sizes.max() : outputs + n * sizes.max() + width]
    all_rows = np.arange(n)
    p = o = 0
    A, A_rows = X, rows
    for l in range(depth):
        n_in, n_out = sizes[l], sizes[l + 1]
        W = flat[p : p + n_out * n_in].reshape(n_out, n_in)
        b = flat[p + n_out * n_in : p + n_out * (n_in + 1)]
        Z = work[o : o + n * n_out].reshape(n, n_out)
        f = code if l < depth - 1 else IDENTITY
        dense_forward(A, A_rows, W, scratch[: n_in * n_out].reshape(n_in, n_out), b, Z, f)
        p, o = p + n_out * (n_in + 1), o + n * n_out
        A, A_rows = Z, all_rows
    value = loss_gradient(A, Y, rows, divisor)
    G = A
    for l in range(depth - 1, -1, -1):
        n_in, n_out = sizes[l], sizes[l + 1]
        p, o = p - n_out * (n_in + 1), o - n * n_out
        W = flat[p : p + n_out * n_in].reshape(n_out, n_in)
        dW = grad[p : p + n_out * n_in].reshape(n_out, n_in)
        db = grad[p + n_out * n_in : p + n_out * (n_in + 1)]
        WT = scratch[: n_in * n_out].reshape(n_in, n_out)
        if l == 0:
            dense_parameter_gradients(G, X, rows, dW, WT, db)
            break
        A = work[o - n * n_in : o].reshape(n, n_in)
        dense_parameter_gradients(G, A, all_rows, dW, WT, db)
        G_in = spare[: n * n_in].reshape(n, n_in)
        dense_input_gradient(G, W, WT, A, code, G_in)
        A[:] = G_in
        G = A
    return value


def layered_work(sizes: tuple[int, ...], n: int) -> int:
    """Elements of ``work`` that :func:`layered_step` needs for batches of ``n`` rows."""
    widest = max(a * b for a, b in itertools.pairwise(sizes))
    return n * (sum(sizes[1:]) + max(sizes)) + widest
