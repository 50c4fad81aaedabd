"""The compiled training loops: many steps per call, each a forward and backward
(:func:`~gradfit.engine.kernel.rank_one.rank_one_step` for one hidden layer and one
output, :mod:`~gradfit.engine.kernel.members` for an ensemble's large steps and a Gaussian
head, :func:`~gradfit.engine.kernel.layered.layered_step` otherwise) and then the
optimizer's update, element by element.

The activations' calculus comes from their own classes
(:mod:`gradfit.engine.kernel.elements`) and the reduction from the loss
(:meth:`~gradfit.engine.Loss.divisor`). What the kernel writes out is the dense layers'
products as loops over rows and the update operation for operation: at these sizes, the
engine's own array functions compiled as they are (BLAS products, one pass per operation)
measured 1.3–1.9× slower per step (the update alone 1.5×). Only the rounding differs from
NumPy's: the order of the sums, fused multiply-adds, and the one-hidden-layer step's
``w₂`` taken out of its sums over rows. ``fastmath`` allows reassociation and contraction,
never an assumption about NaN or infinity, which divergence detection relies on; and a
division by zero gives ``inf``/NaN as NumPy's does (numba's ``numpy`` error model,
:func:`~gradfit.engine.kernel.cache.jit`).

Arrays are the engine's own: ``flat`` and ``grad`` are an :class:`~gradfit.engine.MLP`'s
``flat`` and ``flat_grad`` (``W: (n_out, n_in)`` then ``b: (n_out,)``, layer after layer),
and the optimizer's state is its flat buffers, so checkpoints and ``state_dict`` see no
difference. ``rows`` are the batch's row numbers into ``X: (n_samples, n_in)`` and
``Y: (n_samples, n_out)`` (one input to a one-hidden-layer network: ``X: (n_samples,)``, see
:func:`~gradfit.engine.kernel.rank_one.rank_one_step`).
"""

from __future__ import annotations

import math
from typing import Any

from gradfit.engine.kernel.cache import jit
from gradfit.engine.kernel.elements import SUMS, update
from gradfit.engine.kernel.layered import layered_step, layered_work
from gradfit.engine.kernel.members import members_in_turn, members_on_the_cores
from gradfit.engine.kernel.rank_one import rank_one_step, rank_one_work


@jit(inline="always")
def keep(snapshot: Any, flat: Any) -> None:  # pragma: no cover - compiled
    """``snapshot[:] = flat``, element by element: numba compiles an array's assignment
    into a slice with a shape check whose error message alone took about 3 s of the
    first run's compilation."""
    for k in range(flat.size):
        snapshot[k] = flat[k]


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
        keep(snapshots[s % 2], flat)
        value = rank_one_step(X, Y, rows, flat, grad, sizes, work, code, divisor)
        losses[s] = value
        update(flat, grad, m, v, t + s + 1, optimizer, hyper)
        if not math.isfinite(value):
            return s, 1
        if not finite(flat):
            return s, 2
    return n_steps, 0


@jit
def run_rank_one_members(
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
    table: Any,
    piece_grad: Any,
    task_losses: Any,
    on_the_cores: bool,
    gaussian: tuple[float, ...],
) -> tuple[int, int]:  # pragma: no cover - compiled
    """:func:`run_rank_one` with an ensemble's members (or one network, ``K = 1``) stepped
    as the tasks of ``table`` (:func:`~gradfit.engine.kernel.members.tasks`), on the cores
    or one after another, to the same numbers: ``work`` holds one
    :func:`~gradfit.engine.kernel.rank_one.rank_one_work` per task, ``task_losses`` a loss
    per task (summed in their order), ``piece_grad`` the second pieces' gradients, laid out
    as ``grad``; the update too is the members' driver's, on the cores in halves of the
    parameters or in one pass. The members' head may be a Gaussian one (two outputs,
    ``gaussian = (min_variance,)``; ``()`` for a mean head), which only this loop steps."""
    K = table[table.shape[0] - 1, 0] + 1
    for s in range(n_steps):
        keep(snapshots[s % 2], flat)
        step = (t + s + 1, optimizer, hyper, m, v)  # the update's, by the members' driver
        if on_the_cores:
            members_on_the_cores(table, X, Y, rows, flat, grad, piece_grad, sizes, work,
                                 code, divisor, gaussian, task_losses, step)  # fmt: skip
        else:
            members_in_turn(table, X, Y, rows, flat, grad, piece_grad, sizes, work,
                            code, divisor, gaussian, task_losses, step)  # fmt: skip
        total = 0.0
        for k in range(task_losses.size):
            total += task_losses[k]
        value = total / K
        losses[s] = value
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
        keep(snapshots[s % 2], flat)
        value = layered_step(X, Y, rows, flat, grad, sizes, work, code, divisor)
        losses[s] = value
        update(flat, grad, m, v, t + s + 1, optimizer, hyper)
        if not math.isfinite(value):
            return s, 1
        if not finite(flat):
            return s, 2
    return n_steps, 0


def work_size(sizes: tuple[int, ...], n: int, fused: bool) -> int:
    """Elements of ``work`` that a step of one network needs for batches of ``n`` rows,
    ``fused`` (one hidden layer and a mean or Gaussian head) or layer by layer."""
    return rank_one_work(sizes) if fused else layered_work(sizes, n)
