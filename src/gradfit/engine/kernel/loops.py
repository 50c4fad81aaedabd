"""The compiled loops: the engine's forward, backward and update, for numba.

The activations' calculus comes from their own classes, compiled here rather than derived
again (each activation's ``element``/``element_slope``, :mod:`gradfit.engine.activations`),
and the reduction from the loss (:meth:`~gradfit.engine.Loss.divisor`). What is written here
is the dense layers' products as loops over rows (the ``Dense`` algebra ``Z = X Wᵀ + b``,
``dW = Gᵀ X``, ``db = Gᵀ 1``, ``dX = G W``) and the optimizers' update element by element,
operation for operation: at these sizes, the engine's own array functions compiled as they
are (BLAS products, one pass per operation) measured 1.3–1.9× slower per step (the update
alone 1.5×). Only the rounding differs: the order of the sums, fused multiply-adds, and
the one-hidden-layer step's ``w₂`` taken out of its sums over rows. Arrays are the
engine's own: ``flat`` and ``grad`` are an :class:`~gradfit.engine.MLP`'s ``flat`` and
``flat_grad`` (``W: (n_out, n_in)`` then ``b: (n_out,)``, layer after layer), and the
optimizer's state is its flat buffers, so checkpoints and ``state_dict`` see no
difference. ``rows`` are the batch's row numbers into ``X: (n_samples, n_in)`` and
``Y: (n_samples, n_out)``.

The matrix products take their inner loop along the longer side (a dot product when
``n_in`` is the longer, an ``axpy`` over a transposed copy otherwise). One hidden layer
with one output (:func:`rank_one_member`) runs four rows at a time, each a pass over the
hidden units, so that the compiler vectorises over the units and the gradient sums are
read and written once per four rows. ``fastmath`` allows reassociation (the vectorised
sums) and contraction (a multiply-add rounds once), never an assumption about NaN or
infinity, which divergence detection relies on; and a division by zero gives ``inf``/NaN
as NumPy's does (numba's ``numpy`` error model, :func:`~gradfit.engine.kernel.cache.jit`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from gradfit.engine.activations import Identity, ReLU
from gradfit.engine.kernel import is_rank_one
from gradfit.engine.kernel.cache import jit

SUMS = {"reassoc", "nsz", "contract"}
"""Reassociation lets sums vectorise, and contraction fuses a product and a sum into one
multiply-add (one rounding instead of two); the results differ from NumPy's in the last
bits."""

IDENTITY, RELU = 0, 1
"""Activation codes; the engine's :class:`~gradfit.engine.Identity` and ``ReLU``."""

SGD, ADAM = 0, 1
"""Optimizer codes; the engine's :class:`~gradfit.engine.SGD` and ``Adam``."""

relu, relu_slope = jit(ReLU.element, inline="always"), jit(ReLU.element_slope, inline="always")
identity = jit(Identity.element, inline="always")
identity_slope = jit(Identity.element_slope, inline="always")


@jit(inline="always")
def activate(code: int, z: Any) -> Any:
    """The activation ``code``'s ``f(z)``, from its class (``ReLU.element``, ...)."""
    return relu(z) if code == RELU else identity(z)


@jit(inline="always")
def derivative(code: int, a: Any) -> Any:
    """The activation ``code``'s ``f'(z)`` read from ``a = f(z)`` (``ReLU.element_slope``, ...)."""
    return relu_slope(a) if code == RELU else identity_slope(a)


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


BLOCK = 4
"""Rows per pass over the hidden units in :func:`rank_one_member`: the gradient sums are
read and written once per four rows, and the four rows' products are independent."""


@jit(fastmath=SUMS)
def rank_one_step(
    X: Any, Y: Any, rows: Any, flat: Any, grad: Any, sizes: Any, work: Any, code: int, divisor: int
) -> float:  # pragma: no cover - compiled
    """One hidden layer and one output (``NumpyStepper``'s rank-one case), for one network
    or the ``K`` members of an :class:`~gradfit.engine.Ensemble`. ``rows: (R, n)`` are
    the batch's rows of ``(X, Y)``: ``R = 1``, the same for every member, or ``R = K``,
    member ``k``'s own in ``rows[k]`` (``EnsembleStepper``'s ``member_rows``).

    ``flat`` and ``grad`` are laid out as the ensemble's stacked ``[W₁ (K, hidden, n_in),
    b₁ (K, hidden), w₂ (K, 1, hidden), b₂ (K, 1)]`` (one network's when ``K = 1``); ``K``
    follows from their size. Each member's gradient is its own loss's
    (:func:`rank_one_member`); returns the members' mean loss before the update.
    ``work`` holds :func:`rank_one_member`'s ``(2 n_in + 1 + BLOCK, hidden)``.
    """
    n_in, hidden = sizes[0], sizes[1]
    K = flat.size // (hidden * (n_in + 2) + 1)
    W1, dW1 = flat[: K * hidden * n_in], grad[: K * hidden * n_in]
    b1 = flat[K * hidden * n_in : K * hidden * (n_in + 1)].reshape(K, hidden)
    db1 = grad[K * hidden * n_in : K * hidden * (n_in + 1)].reshape(K, hidden)
    w2 = flat[K * hidden * (n_in + 1) : K * hidden * (n_in + 2)].reshape(K, hidden)
    dw2 = grad[K * hidden * (n_in + 1) : K * hidden * (n_in + 2)].reshape(K, hidden)
    b2, db2 = flat[K * hidden * (n_in + 2) :], grad[K * hidden * (n_in + 2) :]
    total = 0.0
    for m in range(K):
        own, size = rows[min(m, rows.shape[0] - 1)], hidden * n_in
        total += rank_one_member(
            X, Y, own, W1[m * size : (m + 1) * size], b1[m], w2[m], b2[m],
            dW1[m * size : (m + 1) * size], db1[m], dw2[m], db2[m:], work, code, divisor,
        )  # fmt: skip
    return total / K


@jit(fastmath=SUMS)
def rank_one_member(
    X: Any,
    Y: Any,
    rows: Any,
    W1: Any,
    b1: Any,
    w2: Any,
    b2: float,
    dW1: Any,
    db1: Any,
    dw2: Any,
    db2: Any,
    work: Any,
    code: int,
    divisor: int,
) -> float:  # pragma: no cover - compiled
    """One network's step of :func:`rank_one_step`, row by row, each a pass over the
    hidden units (``W1`` and ``dW1`` flat, ``(hidden, n_in)`` row by row).

    Forward, row ``x``: ``a = f(W₁ x + b₁)``, ``ŷ = w₂ᵀ a + b₂``; the loss (``MSE``/``SSE``)
    ``L = Σ (ŷ - y)² / d`` and ``g = dL/dŷ = 2 (ŷ - y) / d``. Backward, the layers'
    chain rule summed over the rows: ``dw₂ = Σ g a``, ``db₂ = Σ g``, and with
    ``dz = g w₂ ⊙ f'(z)``, ``db₁ = Σ dz = w₂ ⊙ Σ g f'(z)`` and ``dW₁ = Σ dz xᵀ =
    w₂ ⊙ Σ g f'(z) xᵀ``: the constant ``w₂`` leaves the sums, which run over ``BLOCK``
    rows at a time with the hidden units as the inner, vectorised loop. ``work`` holds
    ``W₁ᵀ (n_in, hidden)``, the sums ``Σ g f'(z) xᵀ (n_in, hidden)`` and
    ``Σ g f'(z) (hidden,)``, and the ``BLOCK`` rows' ``a (BLOCK, hidden)``.
    Writes ``dW₁``, ``db₁``, ``dw₂`` and ``db₂[0]``; returns the loss.
    """
    hidden, n_in = b1.size, X.shape[1]
    WT, S = work[: n_in * hidden], work[n_in * hidden : 2 * n_in * hidden]
    s = work[2 * n_in * hidden : (2 * n_in + 1) * hidden]
    A = work[(2 * n_in + 1) * hidden : (2 * n_in + 1 + BLOCK) * hidden].reshape(BLOCK, hidden)
    a0, a1, a2, a3 = A[0], A[1], A[2], A[3]
    for j in range(hidden):
        for k in range(n_in):
            WT[k * hidden + j] = W1[j * n_in + k]
    S[:] = 0
    s[:] = 0
    dw2[:] = 0
    scale = 2 / divisor
    total, g_sum, n = 0.0, 0.0, rows.size
    # BLOCK rows forward, their g, then their backward in one pass over the hidden units.
    # One input has loops of its own, the four rows in one pass each way (the sine's step
    # 1.4× faster than through the general loops; a branch inside the helpers instead cost
    # their vectorisation). With several inputs the rows go forward one by one: four at
    # once measured 1.2–1.45× slower there.
    if n_in == 1:
        for i in range(0, n, BLOCK):
            r0, r1, r2, r3 = block_rows(rows, i)
            x0, x1, x2, x3 = X[r0, 0], X[r1, 0], X[r2, 0], X[r3, 0]
            y0, y1, y2, y3 = one_input_forward(x0, x1, x2, x3, WT, b1, w2, a0, a1, a2, a3, code)
            squares, g0, g1, g2, g3 = block_loss(
                y0 + b2 - Y[r0, 0], y1 + b2 - Y[r1, 0], y2 + b2 - Y[r2, 0], y3 + b2 - Y[r3, 0],
                n - i, scale,
            )  # fmt: skip
            total, g_sum = total + squares, g_sum + ((g0 + g1) + (g2 + g3))
            one_input_backward(x0, x1, x2, x3, g0, g1, g2, g3, a0, a1, a2, a3, dw2, s, S, code)
    else:
        for i in range(0, n, BLOCK):
            r0, r1, r2, r3 = block_rows(rows, i)
            squares, g0, g1, g2, g3 = block_loss(
                hidden_forward(X, r0, WT, b1, w2, a0, code) + b2 - Y[r0, 0],
                hidden_forward(X, r1, WT, b1, w2, a1, code) + b2 - Y[r1, 0],
                hidden_forward(X, r2, WT, b1, w2, a2, code) + b2 - Y[r2, 0],
                hidden_forward(X, r3, WT, b1, w2, a3, code) + b2 - Y[r3, 0],
                n - i, scale,
            )  # fmt: skip
            total, g_sum = total + squares, g_sum + ((g0 + g1) + (g2 + g3))
            hidden_backward(X, r0, r1, r2, r3, g0, g1, g2, g3, a0, a1, a2, a3, dw2, s, S, code)
    for j in range(hidden):
        u = w2[j]
        db1[j] = u * s[j]
        for k in range(n_in):
            dW1[j * n_in + k] = u * S[k * hidden + j]
    db2[0] = g_sum
    return total / divisor


@jit(inline="always")
def block_rows(rows: Any, i: int) -> tuple[int, int, int, int]:  # pragma: no cover - compiled
    """The ``BLOCK`` rows from position ``i``; past the batch's end, its last row again."""
    last = rows.size - 1
    return rows[i], rows[min(i + 1, last)], rows[min(i + 2, last)], rows[min(i + 3, last)]


@jit(fastmath=SUMS, inline="always")
def block_loss(
    e0: float, e1: float, e2: float, e3: float, valid: int, scale: float
) -> tuple[float, float, float, float, float]:  # pragma: no cover - compiled
    """A block's ``Σ e²`` over its first ``valid`` rows and each row's ``g = e · scale``
    (0 for a row past the batch's end), from the errors ``e = ŷ - y``."""
    e1, e2, e3 = (e1 if valid > 1 else 0.0), (e2 if valid > 2 else 0.0), (e3 if valid > 3 else 0.0)
    return (e0 * e0 + e1 * e1) + (e2 * e2 + e3 * e3), e0 * scale, e1 * scale, e2 * scale, e3 * scale


@jit(fastmath=SUMS, inline="always")
def one_input_forward(
    x0: float,
    x1: float,
    x2: float,
    x3: float,
    w: Any,
    b1: Any,
    w2: Any,
    a0: Any,
    a1: Any,
    a2: Any,
    a3: Any,
    code: int,
) -> tuple[float, float, float, float]:  # pragma: no cover - compiled
    """:func:`hidden_forward` for four rows of one input (``x0``…; ``w = W₁[:, 0]``), in
    one pass."""
    y0 = y1 = y2 = y3 = 0.0
    for j in range(w.size):
        c, v, u = b1[j], w[j], w2[j]
        a0[j], a1[j] = activate(code, c + x0 * v), activate(code, c + x1 * v)
        a2[j], a3[j] = activate(code, c + x2 * v), activate(code, c + x3 * v)
        y0, y1, y2, y3 = y0 + a0[j] * u, y1 + a1[j] * u, y2 + a2[j] * u, y3 + a3[j] * u
    return y0, y1, y2, y3


@jit(fastmath=SUMS, inline="always")
def hidden_forward(
    X: Any, r: int, WT: Any, b1: Any, w2: Any, a: Any, code: int
) -> float:  # pragma: no cover - compiled
    """``a = f(W₁ x + b₁)`` for the row ``x = X[r]``, with ``W₁ᵀ`` flat in ``WT``
    (``(n_in, hidden)``); returns ``w₂ᵀ a``."""
    hidden = a.size
    for j in range(hidden):
        a[j] = b1[j]
    for k in range(X.shape[1]):
        x, at = X[r, k], k * hidden
        for j in range(hidden):
            a[j] += x * WT[at + j]
    out = 0.0
    for j in range(hidden):
        a[j] = activate(code, a[j])
        out += a[j] * w2[j]
    return out


@jit(fastmath=SUMS, inline="always")
def one_input_backward(
    x0: float,
    x1: float,
    x2: float,
    x3: float,
    g0: float,
    g1: float,
    g2: float,
    g3: float,
    a0: Any,
    a1: Any,
    a2: Any,
    a3: Any,
    dw2: Any,
    s: Any,
    S: Any,
    code: int,
) -> None:  # pragma: no cover - compiled
    """:func:`hidden_backward` for one input (the rows' ``x0``…), in one pass."""
    for j in range(dw2.size):
        m0, m1 = g0 * derivative(code, a0[j]), g1 * derivative(code, a1[j])
        m2, m3 = g2 * derivative(code, a2[j]), g3 * derivative(code, a3[j])
        dw2[j] += (g0 * a0[j] + g1 * a1[j]) + (g2 * a2[j] + g3 * a3[j])
        s[j] += (m0 + m1) + (m2 + m3)
        S[j] += (m0 * x0 + m1 * x1) + (m2 * x2 + m3 * x3)


@jit(fastmath=SUMS, inline="always")
def hidden_backward(
    X: Any,
    r0: int,
    r1: int,
    r2: int,
    r3: int,
    g0: float,
    g1: float,
    g2: float,
    g3: float,
    a0: Any,
    a1: Any,
    a2: Any,
    a3: Any,
    dw2: Any,
    s: Any,
    S: Any,
    code: int,
) -> None:  # pragma: no cover - compiled
    """Adds four rows' ``g a`` to ``dw₂``, ``g f'(z)`` to ``s`` and ``g f'(z) xᵀ`` to
    ``S`` (flat ``(n_in, hidden)``), from the rows ``X[r0]``…, their ``g`` and their
    ``a = f(z)`` (overwritten with ``g f'(z)``)."""
    hidden = dw2.size
    for j in range(hidden):
        dw2[j] += (g0 * a0[j] + g1 * a1[j]) + (g2 * a2[j] + g3 * a3[j])
        a0[j], a1[j] = g0 * derivative(code, a0[j]), g1 * derivative(code, a1[j])
        a2[j], a3[j] = g2 * derivative(code, a2[j]), g3 * derivative(code, a3[j])
        s[j] += (a0[j] + a1[j]) + (a2[j] + a3[j])
    for k in range(X.shape[1]):
        x0, x1, x2, x3, at = X[r0, k], X[r1, k], X[r2, k], X[r3, k], k * hidden
        for j in range(hidden):
            S[at + j] += (a0[j] * x0 + a1[j] * x1) + (a2[j] * x2 + a3[j] * x3)


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


@jit
def update(
    p: Any, g: Any, m: Any, v: Any, t: int, optimizer: int, hyper: Any
) -> None:  # pragma: no cover - compiled
    """``SGD._step`` / ``Adam._step`` at step ``t``, element by element, operation for
    operation (so the update itself rounds as NumPy's does).

    ``m`` and ``v`` are Adam's flat moment buffers; SGD's momentum buffer ``b`` is ``m``.
    ``hyper``: SGD ``(lr, momentum, dampening, weight_decay, nesterov)``; Adam
    ``(lr, beta1, beta2, eps, weight_decay)``.
    """
    if optimizer == ADAM:
        lr, beta1, beta2, eps, decay = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
        # A float exponent: the same pow as Python's, so the same step size to the bit.
        step_size = lr / (1 - beta1 ** float(t))
        correction = math.sqrt(1 - beta2 ** float(t))
        for k in range(p.size):
            gk = g[k] + p[k] * decay if decay else g[k]
            m[k] += (gk - m[k]) * (1 - beta1)
            v[k] = v[k] * beta2 + gk * gk * (1 - beta2)
            p[k] += m[k] / (math.sqrt(v[k]) / correction + eps) * -step_size
        return
    lr, mu, tau, decay, nesterov = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
    b = m
    for k in range(p.size):
        gk = g[k] + p[k] * decay if decay else g[k]
        if mu:
            b[k] = gk if t == 1 else b[k] * mu + (1 - tau) * gk
            gk = gk + mu * b[k] if nesterov else b[k]
        p[k] += gk * -lr


@jit(fastmath=SUMS)
def finite(p: Any) -> bool:  # pragma: no cover - compiled
    """Whether every element is finite: ``Σ 0·p`` is 0 unless one is NaN or infinite."""
    total = 0.0
    for k in range(p.size):
        total += p[k] * 0
    return total == 0


@jit
def run_rank_one(
    X: Any,
    Y: Any,
    rows: Any,
    n_steps: int,
    flat: Any,
    grad: Any,
    m: Any,
    v: Any,
    t: int,
    optimizer: int,
    hyper: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    losses: Any,
    snapshots: Any,
) -> tuple[int, int]:  # pragma: no cover - compiled
    """``n_steps`` steps of :func:`rank_one_step` on the rows ``rows: (R, n)`` of
    ``(X, Y)`` (full-batch epochs, or one minibatch), the first at optimizer step
    ``t + 1``; the loss of each into ``losses``, the parameters before each update into
    ``snapshots[step % 2]``.

    Every step updates, as ``NumpyStepper.step`` does; the run stops after a step whose
    loss was not finite (returns ``(step, 1)``) or that left a parameter non-finite
    (``(step, 2)``), and otherwise returns ``(n_steps, 0)``. :func:`run_layered` is the
    same loop over :func:`layered_step`: two functions rather than one with a branch, so
    that a network compiles only the step it takes (half the first run's compilation).
    """
    for s in range(n_steps):
        snapshots[s % 2] = flat
        value = rank_one_step(X, Y, rows, flat, grad, sizes, work, code, divisor)
        losses[s] = value
        update(flat, grad, m, v, t + s + 1, optimizer, hyper)
        if not math.isfinite(value):
            return s, 1
        if not finite(flat):
            return s, 2
    return n_steps, 0


@jit
def run_layered(
    X: Any,
    Y: Any,
    rows: Any,
    n_steps: int,
    flat: Any,
    grad: Any,
    m: Any,
    v: Any,
    t: int,
    optimizer: int,
    hyper: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    losses: Any,
    snapshots: Any,
) -> tuple[int, int]:  # pragma: no cover - compiled
    """:func:`run_rank_one` over :func:`layered_step`."""
    for s in range(n_steps):
        snapshots[s % 2] = flat
        value = layered_step(X, Y, rows, flat, grad, sizes, work, code, divisor)
        losses[s] = value
        update(flat, grad, m, v, t + s + 1, optimizer, hyper)
        if not math.isfinite(value):
            return s, 1
        if not finite(flat):
            return s, 2
    return n_steps, 0


def work_size(sizes: tuple[int, ...], n: int) -> int:
    """Elements of ``work`` that :func:`run` needs for batches of ``n`` rows."""
    if is_rank_one(sizes):
        return (2 * sizes[0] + 1 + BLOCK) * sizes[1]
    widest = max(a * b for a, b in itertools.pairwise(sizes))
    return n * (sum(sizes[1:]) + max(sizes)) + widest
