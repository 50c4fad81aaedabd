"""An ensemble's one-hidden-layer members (a mean head, or a Gaussian head's mean and
variance) stepped as tasks, compiled: on the cores, or one task after another to the same
numbers.

A task is a member on a range of the batch's rows (:func:`tasks`). A step's gradient is a
sum over its rows, so a member cut in two pieces gets the sum of the pieces' gradients (the
parts of :mod:`gradfit.engine.batch_parts`). The tasks share nothing they write, so numba's
``prange`` can give each core some of them. Two lanes of equal work take ``K`` members: an
even ``K`` whole, ``K // 2`` each; an odd ``K`` with its middle member cut in half (five
members: two and a half each, where whole members would leave one core idle a fifth of the
time). The tasks are fixed by ``K`` and the batch's rows, never by the cores:
:class:`~gradfit.engine.kernel.stepper.KernelStepper` runs the same tasks on the cores or in
turn (:func:`members_in_turn`), as has been faster lately
(:class:`~gradfit.engine.pace.Pace`), bit for bit the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import prange

from gradfit.engine.kernel.cache import jit
from gradfit.engine.kernel.elements import SUMS, update
from gradfit.engine.kernel.gaussian_head import gaussian_member
from gradfit.engine.kernel.rank_one import BLOCK, member_offsets, rank_one_member
from gradfit.engine.types import Array

MEMBER, START, STOP, BUFFER = 0, 1, 2, 3
"""The columns of a task table (:func:`tasks`)."""


def tasks(n_members: int, n_rows: int, lanes: int) -> Array:
    """The tasks of a step of ``n_members`` members on ``n_rows`` rows each, in ``lanes``
    lanes of equal work (1: every member whole).

    Returns
    -------
    (n_tasks, 4) array of int64
        Per task its member, the first and one past the last of the member's rows it takes
        (positions in its row list), and the gradient buffer it writes: 0 for the member's
        first piece (the network's own ``flat_grad``), 1 for its second (cut members only).
        In member order, so that ``prange`` hands each of ``lanes`` threads one lane.
    """
    if lanes == 1 or n_members % 2 == 0:
        return np.array([[m, 0, n_rows, 0] for m in range(n_members)], np.int64)
    if lanes != 2:
        raise ValueError(f"members step in one or two lanes, got {lanes}")
    cut, half = n_members // 2, n_rows - n_rows // 2  # the first piece a row longer
    table = [[m, 0, n_rows, 0] for m in range(n_members) if m != cut]
    table[cut:cut] = [[cut, 0, half, 0], [cut, half, n_rows, 1]]
    return np.array(table, np.int64)


@jit(fastmath=SUMS)
def member_task(
    i: Any,
    table: Any,
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    piece_grad: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    gaussian: tuple[float, ...],
) -> float:  # pragma: no cover - compiled
    """Task ``i`` of ``table`` (:func:`tasks`; ``i`` an integer): its member's step on its
    range of the member's rows (``rows: (R, n)`` as
    :func:`~gradfit.engine.kernel.rank_one.rank_one_step` takes them).

    :func:`~gradfit.engine.kernel.rank_one.rank_one_member` on those rows, or with
    ``gaussian = (min_variance,)`` a Gaussian head's
    :func:`~gradfit.engine.kernel.gaussian_head.gaussian_member` (``()`` for a mean head:
    a tuple's length is known when numba compiles, which then drops the branch not taken,
    so that each head compiles only its own step; a ``None`` or a float would compile
    both),
    with the whole batch's ``divisor``: its gradient into ``grad`` (buffer 0) or
    ``piece_grad`` (buffer 1, laid out as ``grad``), in its own slice of ``work`` (one
    :func:`~gradfit.engine.kernel.rank_one.rank_one_work` per task); returns its share
    of the loss.
    """
    n_in, hidden = sizes[0], sizes[1]
    size, own_work = hidden * n_in, (2 * n_in + BLOCK) * hidden
    m, start, stop = table[i, MEMBER], table[i, START], table[i, STOP]
    own = rows[min(m, rows.shape[0] - 1)][start:stop]
    g = grad if table[i, BUFFER] == 0 else piece_grad
    W, b, u, c = member_offsets(sizes, flat.size, m)
    at = i * own_work
    if len(gaussian) == 1:  # a Gaussian head (compiled only for one: see above)
        return gaussian_member(
            X, Y, own, flat[W : W + size], flat[b : b + hidden], flat[u : u + 2 * hidden],
            flat[c : c + 2], g[W : W + size], g[b : b + hidden], g[u : u + 2 * hidden],
            g[c : c + 2], work[at : at + own_work], code, divisor, gaussian[0],
        )  # fmt: skip
    return rank_one_member(
        X, Y, own, flat[W : W + size], flat[b : b + hidden], flat[u : u + hidden],
        flat[c], g[W : W + size], g[b : b + hidden], g[u : u + hidden],
        g[c : c + 1], work[at : at + own_work], code, divisor,
    )  # fmt: skip


@jit(inline="always")
def step_tasks(
    table: Any,
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    piece_grad: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    gaussian: tuple[float, ...],
    losses: Any,
    step: Any,
) -> None:  # pragma: no cover - compiled
    """Every task's :func:`member_task`, task ``i``'s loss into ``losses[i]``; then the
    second pieces' gradients added into ``grad``, and the optimizer's update at
    ``step = (t, optimizer, hyper, m, v)`` (as :func:`~gradfit.engine.kernel.elements.update`
    takes them) in two halves of the parameters. Its ``prange`` loops run on the cores
    when it is inlined into a parallel loop (:func:`members_on_the_cores`), else in turn
    (:func:`members_in_turn`): the tasks write nothing in common and each element's
    update is its own, so the numbers are the same."""
    for task in prange(table.shape[0]):
        i = np.int64(task)  # prange's index may be unsigned: min with it gives a float
        losses[i] = member_task(i, table, X, Y, rows, flat, grad, piece_grad, sizes, work,
                                code, divisor, gaussian)  # fmt: skip
    add_pieces(table, grad, piece_grad, sizes)
    t, optimizer, hyper, m, v = step
    half = flat.size // 2
    for lane in prange(2):
        lo, hi = (0, half) if lane == 0 else (half, flat.size)
        # SGD's empty moment buffers slice to empty
        update(flat[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi], t, optimizer, hyper)


@jit(fastmath=SUMS, parallel=True)
def members_on_the_cores(
    table: Any,
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    piece_grad: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    gaussian: tuple[float, ...],
    losses: Any,
    step: Any,
) -> None:  # pragma: no cover - compiled
    """:func:`step_tasks` on the cores."""
    step_tasks(table, X, Y, rows, flat, grad, piece_grad, sizes, work, code, divisor,
               gaussian, losses, step)  # fmt: skip


@jit(fastmath=SUMS)
def members_in_turn(
    table: Any,
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    piece_grad: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    gaussian: tuple[float, ...],
    losses: Any,
    step: Any,
) -> None:  # pragma: no cover - compiled
    """:func:`step_tasks` one task after another: the same numbers. (A function of its
    own, which numba compiles and caches apart: its caching takes no function as an
    argument.)"""
    step_tasks(table, X, Y, rows, flat, grad, piece_grad, sizes, work, code, divisor,
               gaussian, losses, step)  # fmt: skip


@jit(inline="always")
def add_pieces(table: Any, grad: Any, piece_grad: Any, sizes: Any) -> None:  # pragma: no cover
    """``grad += piece_grad`` over the parameters of each member cut in two."""
    n_in, hidden, out = sizes[0], sizes[1], sizes[2]
    for i in range(table.shape[0]):
        if table[i, BUFFER] == 1:
            W, b, u, c = member_offsets(sizes, grad.size, table[i, MEMBER])
            for start, length in ((W, hidden * n_in), (b, hidden), (u, out * hidden), (c, out)):
                for j in range(start, start + length):
                    grad[j] += piece_grad[j]
