"""The one-hidden-layer, one-output step (the walk-through's 1-64-1, and the members of
an ensemble of such networks), compiled.

Four rows at a time, each a pass over the hidden units, so that the compiler vectorises
over the units and the gradient sums are read and written once per four rows; the output
weights ``w₂`` are taken out of the sums over rows (see :func:`rank_one_member`).
"""

from __future__ import annotations

from typing import Any

from gradfit.engine.kernel.cache import jit
from gradfit.engine.kernel.elements import SUMS, activate, derivative

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
    member ``k``'s own in ``rows[k]`` (``EnsembleStepper``'s ``member_rows``). ``X`` is
    ``(n_samples, n_in)``, or ``(n_samples,)`` for one input, which then takes its own
    loops (:func:`rank_one_member`).

    ``flat`` and ``grad`` are laid out as the ensemble's stacked ``[W₁ (K, hidden, n_in),
    b₁ (K, hidden), w₂ (K, 1, hidden), b₂ (K, 1)]`` (one network's when ``K = 1``); ``K``
    follows from their size. Each member's gradient is its own loss's
    (:func:`rank_one_member`); returns the members' mean loss before the update.
    ``work`` holds :func:`rank_one_member`'s ``(2 n_in + BLOCK, hidden)``.
    """
    n_in, hidden = sizes[0], sizes[1]
    K = flat.size // (hidden * (n_in + 2) + 1)
    size, total = hidden * n_in, 0.0
    for m in range(K):
        # Plain slices, never a reshape: numba's reshape is a call and an allocation,
        # which on the sine cost a quarter of the step.
        W, b, u, c = member_offsets(sizes, flat.size, m)
        total += rank_one_member(
            X, Y, rows[min(m, rows.shape[0] - 1)], flat[W : W + size], flat[b : b + hidden],
            flat[u : u + hidden], flat[c], grad[W : W + size], grad[b : b + hidden],
            grad[u : u + hidden], grad[c : c + 1], work, code, divisor,
        )  # fmt: skip
    return total / K


@jit(inline="always")
def member_offsets(
    sizes: Any, n_flat: int, m: int
) -> tuple[int, int, int, int]:  # pragma: no cover - compiled
    """Where member ``m``'s ``W₁``, ``b₁``, ``W₂`` and ``b₂`` start in the flat parameters
    of ``K`` stacked one-hidden-layer networks, ``[W₁ (K, hidden, n_in), b₁ (K, hidden),
    W₂ (K, out, hidden), b₂ (K, out)]`` (``n_flat`` of them; one network's when ``K = 1``),
    with ``sizes = [n_in, hidden, out]``."""
    n_in, hidden, out = sizes[0], sizes[1], sizes[2]
    K = n_flat // (hidden * (n_in + 1 + out) + out)
    return (
        m * hidden * n_in,
        K * hidden * n_in + m * hidden,
        K * hidden * (n_in + 1) + m * out * hidden,
        K * hidden * (n_in + 1 + out) + m * out,
    )


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
    ``W₁ᵀ (n_in, hidden)`` and the sums ``Σ g f'(z) xᵀ (n_in, hidden)`` (with one input,
    ``W₁`` and ``dW₁`` serve: they are laid out so already), then the ``BLOCK`` rows'
    ``a (BLOCK, hidden)``; ``Σ g f'(z)`` builds up in ``db₁``.
    Writes ``dW₁``, ``db₁``, ``dw₂`` and ``db₂[0]``; returns the loss.
    """
    hidden = b1.size
    # The sums Σ g f'(z) build up in db₁ and Σ g f'(z) xᵀ in S: both are scaled by w₂ at
    # the end.
    WT, S, a0, a1, a2, a3 = member_work(W1, dW1, work, hidden)
    for j in range(hidden):
        db1[j] = 0.0
        dw2[j] = 0.0
    s = db1
    scale = 2 / divisor
    total, g_sum, n = 0.0, 0.0, rows.size
    # BLOCK rows forward, their g, then their backward in one pass over the hidden units.
    # One input has loops of its own, the four rows in one pass each way (the sine's step
    # 1.4× faster than through the general loops; a branch inside the helpers instead cost
    # their vectorisation). With several inputs the rows go forward one by one: four at
    # once measured 1.2–1.45× slower there. Which loops is decided by X's dimensions, when
    # numba compiles the function (one input comes as a vector), so that only the loops a
    # network takes are compiled: a first run compiles half the code.
    if X.ndim == 1:
        for i in range(0, n, BLOCK):
            r0, r1, r2, r3 = block_rows(rows, i)
            x0, x1, x2, x3 = X[r0], X[r1], X[r2], X[r3]
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
        db1[j] *= w2[j]
    if X.ndim == 1:
        for j in range(hidden):
            dW1[j] *= w2[j]
    else:
        n_in = X.shape[1]
        for j in range(hidden):
            for k in range(n_in):
                dW1[j * n_in + k] = w2[j] * S[k * hidden + j]
    db2[0] = g_sum
    return total / divisor


@jit(inline="always")
def member_work(W1: Any, dW1: Any, work: Any, hidden: int) -> tuple[Any, ...]:  # pragma: no cover
    """A member's step's arrays in ``work`` (:func:`rank_one_work`): ``W₁ᵀ`` and the sums
    ``S`` of ``dL/dz xᵀ``, flat ``(n_in, hidden)`` (with one input ``W₁`` and ``dW₁``
    themselves, which are laid out so; ``S`` zeroed), then the ``BLOCK`` rows' hidden
    activations ``a0 … a3``."""
    n_in = W1.size // hidden
    WT, S = W1, dW1
    if n_in > 1:
        WT, S = work[: n_in * hidden], work[n_in * hidden : 2 * n_in * hidden]
        for j in range(hidden):
            for k in range(n_in):
                WT[k * hidden + j] = W1[j * n_in + k]
    for i in range(n_in * hidden):
        S[i] = 0.0
    at = 2 * n_in * hidden
    a0, a1 = work[at : at + hidden], work[at + hidden : at + 2 * hidden]
    a2, a3 = work[at + 2 * hidden : at + 3 * hidden], work[at + 3 * hidden : at + 4 * hidden]
    return WT, S, a0, a1, a2, a3


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
    preactivation(X, r, WT, b1, a)
    out = 0.0
    for j in range(a.size):
        a[j] = activate(code, a[j])
        out += a[j] * w2[j]
    return out


@jit(fastmath=SUMS, inline="always")
def preactivation(X: Any, r: int, WT: Any, b1: Any, z: Any) -> None:  # pragma: no cover
    """``z = W₁ x + b₁`` for the row ``x = X[r]``, with ``W₁ᵀ`` flat in ``WT``
    (``(n_in, hidden)``): a pass over the hidden units per input."""
    hidden = z.size
    for j in range(hidden):
        z[j] = b1[j]
    for k in range(X.shape[1]):
        x, at = X[r, k], k * hidden
        for j in range(hidden):
            z[j] += x * WT[at + j]


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
    add_outer(X, r0, r1, r2, r3, a0, a1, a2, a3, S)


@jit(fastmath=SUMS, inline="always")
def add_outer(
    X: Any, r0: int, r1: int, r2: int, r3: int, d0: Any, d1: Any, d2: Any, d3: Any, S: Any
) -> None:  # pragma: no cover - compiled
    """``S += Σ xᵀ d`` over four rows, ``S`` flat ``(n_in, hidden)``: the first layer's
    weight gradient, transposed, from the rows ``X[r0]``… and their ``d = dL/dz``."""
    hidden = d0.size
    for k in range(X.shape[1]):
        x0, x1, x2, x3, at = X[r0, k], X[r1, k], X[r2, k], X[r3, k], k * hidden
        for j in range(hidden):
            S[at + j] += (d0[j] * x0 + d1[j] * x1) + (d2[j] * x2 + d3[j] * x3)


def rank_one_work(sizes: tuple[int, ...]) -> int:
    """Elements of ``work`` that :func:`rank_one_step` needs: ``(2 n_in + BLOCK, hidden)``."""
    return (2 * sizes[0] + BLOCK) * sizes[1]
