"""One hidden layer and a Gaussian head (a mean and a variance for one target), compiled:
the members of a deep ensemble as the paper trains them.

The same loops as :mod:`gradfit.engine.kernel.rank_one`'s (four rows at a time, the hidden
units as the inner, vectorised loop), with two outputs: the mean ``μ`` and the raw variance
``s``, ``v = softplus(s) + min_variance``, trained on the Gaussian negative log-likelihood
of :class:`~gradfit.engine.GaussianNLL`. With two outputs the output weights no longer
leave the sums over rows: each row's ``dL/dz`` is formed, then its outer product with the
row added up (:func:`~gradfit.engine.kernel.rank_one.add_outer`).
"""

from __future__ import annotations

from typing import Any

from gradfit.engine.kernel.cache import jit
from gradfit.engine.kernel.elements import SUMS, activate, derivative, gaussian_element
from gradfit.engine.kernel.rank_one import (
    BLOCK,
    add_outer,
    block_rows,
    member_work,
    preactivation,
)


@jit(fastmath=SUMS)
def gaussian_member(
    X: Any,
    Y: Any,
    rows: Any,
    W1: Any,
    b1: Any,
    W2: Any,
    b2: Any,
    dW1: Any,
    db1: Any,
    dW2: Any,
    db2: Any,
    work: Any,
    code: int,
    divisor: int,
    min_variance: float,
) -> float:  # pragma: no cover - compiled
    """One network's step on the rows ``rows`` of ``(X, Y)``, ``Y: (n_samples, 1)``; the
    parameters flat, ``W1``/``dW1`` ``(hidden, n_in)`` and ``W2``/``dW2`` ``(2, hidden)``
    row by row, ``b2``/``db2`` ``(2,)``.

    Forward, row ``x``: ``a = f(W₁ x + b₁)``, ``μ = w_μᵀ a + b_μ``, ``s = w_sᵀ a + b_s``,
    ``v = softplus(s) + min_variance``. The loss over the batch's ``N = divisor`` targets,
    ``L = Σ ½ (log v + (μ - y)²/v) / N``, and (:class:`~gradfit.engine.GaussianNLL`)
    ``g_μ = (μ - y) / (N v)``, ``g_s = (1 - (μ - y)²/v) / (2 N v) · σ(s)``. Backward:
    ``dw_μ = Σ g_μ a``, ``dw_s = Σ g_s a``, ``db₂ = Σ (g_μ, g_s)``, and with
    ``dz = (g_μ w_μ + g_s w_s) ⊙ f'(z)``, ``db₁ = Σ dz``, ``dW₁ = Σ dz xᵀ``.
    ``work`` as :func:`~gradfit.engine.kernel.rank_one.rank_one_member`'s. Writes the
    gradients; returns this rows' share of the loss.
    """
    hidden, n_in = b1.size, X.shape[1]
    wm, ws = W2[:hidden], W2[hidden:]
    dwm, dws = dW2[:hidden], dW2[hidden:]
    WT, S, a0, a1, a2, a3 = member_work(W1, dW1, work, hidden)  # S: the sums Σ dz xᵀ
    for j in range(hidden):
        db1[j] = 0.0
        dwm[j] = 0.0
        dws[j] = 0.0
    total, gm_sum, gs_sum, n = 0.0, 0.0, 0.0, rows.size
    for i in range(0, n, BLOCK):
        r0, r1, r2, r3 = block_rows(rows, i)
        t0, m0, s0 = row_loss(X, Y, r0, WT, b1, wm, ws, b2, a0, code, divisor, min_variance)
        t1, m1, s1 = row_loss(X, Y, r1, WT, b1, wm, ws, b2, a1, code, divisor, min_variance)
        t2, m2, s2 = row_loss(X, Y, r2, WT, b1, wm, ws, b2, a2, code, divisor, min_variance)
        t3, m3, s3 = row_loss(X, Y, r3, WT, b1, wm, ws, b2, a3, code, divisor, min_variance)
        valid = n - i  # rows past the batch's end (its last row again) count nothing
        if valid < BLOCK:
            t3, m3, s3 = 0.0, 0.0, 0.0
            if valid < 3:
                t2, m2, s2 = 0.0, 0.0, 0.0
            if valid < 2:
                t1, m1, s1 = 0.0, 0.0, 0.0
        total += (t0 + t1) + (t2 + t3)
        gm_sum += (m0 + m1) + (m2 + m3)
        gs_sum += (s0 + s1) + (s2 + s3)
        for j in range(hidden):
            dwm[j] += (m0 * a0[j] + m1 * a1[j]) + (m2 * a2[j] + m3 * a3[j])
            dws[j] += (s0 * a0[j] + s1 * a1[j]) + (s2 * a2[j] + s3 * a3[j])
            u, w = wm[j], ws[j]
            a0[j] = (m0 * u + s0 * w) * derivative(code, a0[j])
            a1[j] = (m1 * u + s1 * w) * derivative(code, a1[j])
            a2[j] = (m2 * u + s2 * w) * derivative(code, a2[j])
            a3[j] = (m3 * u + s3 * w) * derivative(code, a3[j])
            db1[j] += (a0[j] + a1[j]) + (a2[j] + a3[j])
        add_outer(X, r0, r1, r2, r3, a0, a1, a2, a3, S)
    if n_in > 1:
        for j in range(hidden):
            for k in range(n_in):
                dW1[j * n_in + k] = S[k * hidden + j]
    db2[0], db2[1] = gm_sum, gs_sum
    return 0.5 * total / divisor


@jit(fastmath=SUMS, inline="always")
def row_loss(
    X: Any,
    Y: Any,
    r: int,
    WT: Any,
    b1: Any,
    wm: Any,
    ws: Any,
    b2: Any,
    a: Any,
    code: int,
    divisor: int,
    min_variance: float,
) -> tuple[float, float, float]:  # pragma: no cover - compiled
    """Row ``X[r]`` forward, ``a = f(W₁ x + b₁)`` (``W₁ᵀ`` flat in ``WT``), and its
    Gaussian NLL: ``(log v + (μ - y)²/v, g_μ, g_s)``, the term before its ``½ / N``
    (:meth:`GaussianNLL.element <gradfit.engine.GaussianNLL.element>`)."""
    preactivation(X, r, WT, b1, a)
    mu, s = b2[0], b2[1]
    for j in range(a.size):
        a[j] = activate(code, a[j])
        mu += a[j] * wm[j]
        s += a[j] * ws[j]
    return gaussian_element(mu, s, Y[r, 0], divisor, min_variance)
