"""An ensemble's one-hidden-layer members (a mean head, or a Gaussian head's mean and
variance) stepped in parts, compiled: on the cores, or one part after another to the same
numbers.

A large step is cut into tasks, each a member on a part of the batch's rows (the parts of
:mod:`gradfit.engine.batch_parts`: a step's gradient is a sum over its rows, so the parts'
gradients add up). The tasks share nothing they write, so numba's ``prange`` can give each
core some of them; with ``parts = 2`` the ``2K`` tasks split evenly over two cores whatever
``K`` (members alone would leave one core idle a fifth of the time for ``K = 5``). The parts
are fixed by the step's size, never by the cores:
:class:`~gradfit.engine.kernel.stepper.EnsembleKernelStepper` runs the same tasks on the
cores or in turn (:func:`members_in_turn`), as has been faster lately
(:class:`~gradfit.engine.pace.Pace`), bit for bit the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import prange

from gradfit.engine.kernel.cache import jit
from gradfit.engine.kernel.elements import SUMS
from gradfit.engine.kernel.gaussian_head import gaussian_member
from gradfit.engine.kernel.rank_one import BLOCK, rank_one_member


@jit(fastmath=SUMS)
def member_part(
    task: Any,
    parts: int,
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    part_grads: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    min_variance: float,
) -> float:  # pragma: no cover - compiled
    """Task ``task`` (an integer): member ``m = task // parts`` on part ``p = task % parts``
    of its rows (``rows: (R, n)`` as :func:`~gradfit.engine.kernel.rank_one.rank_one_step`
    takes them; consecutive parts, the first ones a row longer where ``parts`` does not
    divide ``n``).

    :func:`~gradfit.engine.kernel.rank_one.rank_one_member` on those rows (or, where the
    network has two outputs, a Gaussian head's
    :func:`~gradfit.engine.kernel.gaussian_head.gaussian_member`, with ``min_variance``),
    with the whole batch's ``divisor``: its gradient into ``grad`` (part 0) or ``part_grads[p - 1]``
    (laid out as ``grad``), in its own slice of ``work`` (``K · parts`` times
    :func:`~gradfit.engine.kernel.rank_one.rank_one_work`); returns its share of the loss.
    """
    n_in, hidden, out = sizes[0], sizes[1], sizes[2]
    K = flat.size // (hidden * (n_in + 1 + out) + out)
    W1, b1, W2 = 0, K * hidden * n_in, K * hidden * (n_in + 1)
    b2 = K * hidden * (n_in + 1 + out)
    size, own_work = hidden * n_in, (2 * n_in + BLOCK) * hidden
    m, p = task // parts, task % parts
    own = rows[min(m, rows.shape[0] - 1)]
    base, extra = divmod(own.size, parts)
    start = p * base + min(p, extra)
    stop = start + base + (1 if p < extra else 0)
    g = grad if p == 0 else part_grads[p - 1]
    W, b, at = W1 + m * size, b1 + m * hidden, task * own_work
    u, c = W2 + m * out * hidden, b2 + m * out
    if out == 2:
        return gaussian_member(
            X, Y, own[start:stop], flat[W : W + size], flat[b : b + hidden],
            flat[u : u + 2 * hidden], flat[c : c + 2], g[W : W + size], g[b : b + hidden],
            g[u : u + 2 * hidden], g[c : c + 2], work[at : at + own_work], code, divisor,
            min_variance,
        )  # fmt: skip
    return rank_one_member(
        X, Y, own[start:stop], flat[W : W + size], flat[b : b + hidden], flat[u : u + hidden],
        flat[c], g[W : W + size], g[b : b + hidden], g[u : u + hidden],
        g[c : c + 1], work[at : at + own_work], code, divisor,
    )  # fmt: skip


@jit(fastmath=SUMS, parallel=True)
def members_on_the_cores(
    parts: int,
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    part_grads: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    min_variance: float,
    losses: Any,
) -> None:  # pragma: no cover - compiled
    """Every task's :func:`member_part` on the cores, task ``i``'s loss into ``losses[i]``;
    then the parts' gradients added into ``grad``, part after part."""
    for task in prange(losses.size):
        i = np.int64(task)  # prange's index may be unsigned: // and min with it give floats
        losses[i] = member_part(
            i, parts, X, Y, rows, flat, grad, part_grads, sizes, work, code, divisor, min_variance
        )
    add_parts(grad, part_grads, parts)


@jit(fastmath=SUMS)
def members_in_turn(
    parts: int,
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    part_grads: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    min_variance: float,
    losses: Any,
) -> None:  # pragma: no cover - compiled
    """:func:`members_on_the_cores` one task after another: the same numbers."""
    for i in range(losses.size):
        losses[i] = member_part(
            i, parts, X, Y, rows, flat, grad, part_grads, sizes, work, code, divisor, min_variance
        )
    add_parts(grad, part_grads, parts)


@jit(inline="always")
def add_parts(grad: Any, part_grads: Any, parts: int) -> None:  # pragma: no cover - compiled
    """``grad += part_grads[0] + …``, one part after another."""
    for q in range(parts - 1):
        for i in range(grad.size):
            grad[i] += part_grads[q, i]
