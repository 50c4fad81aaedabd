"""An ensemble's step in parts of its batch's rows, the parts side by side on the cores.

A step's gradient is a sum over the batch's rows, ``dW = Σᵣ gᵣ xᵣᵀ``: the forward and
backward of rows ``0 … j - 1`` and of rows ``j … n - 1`` are independent computations
whose parameter gradients add up. Where a step's arithmetic outweighs its Python (many
rows, wide layers, ``K`` members), each part runs on a thread of its own: NumPy's matrix
products (on one BLAS thread each) and its element-wise loops release the GIL, so two
parts take two cores, while they are free: the parts run on threads or one after another
as has been faster lately (:class:`~gradfit.engine.pace.Pace`). Each part holds all ``K``
members (splitting the members instead would leave one core idle a fifth of the time for
``K = 5`` on two).

The parts are fixed by the step's size alone, never by the cores: a step computes the same
numbers, bit for bit, whether its parts run one after another (one core) or at once.
Against one pass over all the rows, only the rounding differs: the products sum each part's
rows, then the parts (``dW = dW₀ + dW₁``).
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.losses import Loss
from gradfit.engine.pace import PARALLEL, SERIAL, Pace, cores
from gradfit.engine.types import Array

if TYPE_CHECKING:
    from gradfit.engine.ensemble import Ensemble

PARTED_WORK = 1_500_000
"""Multiply-adds of a step's matrix products (``K · rows · Σ n_in·n_out``) from which it
runs in two parts. ``benchmarks/ensemble_speed.py``'s large workload (2.3·10⁶ with a
Gaussian head) is above it, its Boston-sized one (3.5·10⁵, a step of about 0.1 ms, where a
thread's hand-off would cost a tenth) below; the crossover between was not measured
finely."""

BLAS_THREADED_WORK = 2**24
"""Multiply-adds of a step's largest product (``K · rows · n_in·n_out``) from which BLAS
itself runs on every core (the estimator's ``blas_threads``): there the step stays whole."""

_pool: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    """In a forked child: the parent's threads did not come along, and a pool that
    believes it has them would never run what it is given."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def pool() -> ThreadPoolExecutor | None:
    """The threads that run every part but the first (the caller runs that one): one per
    further core, shared by all steppers; ``None`` on one core."""
    global _pool
    if _pool is None and cores() > 1:
        _pool = ThreadPoolExecutor(cores() - 1, thread_name_prefix="gradfit-parts")
    return _pool


def n_parts(net: Ensemble, n_rows: int) -> int:
    """The parts a step of ``n_rows`` rows runs in: 2 where the step's products reach
    :data:`PARTED_WORK` (and stay under :data:`BLAS_THREADED_WORK`), else 1."""
    products = [a * b for a, b in itertools.pairwise(net.sizes)]
    work = net.n_members * n_rows * sum(products)
    largest = net.n_members * n_rows * max(products)
    return 2 if net.n_members > 1 and work >= PARTED_WORK and largest < BLAS_THREADED_WORK else 1


class BatchParts:
    """The forward, loss and backward of a step of ``n_rows`` rows, in ``n`` parts of
    consecutive rows (the first parts one row longer where ``n`` does not divide them).

    Part ``0`` stores its gradient in ``net``'s ``dW`` and ``db``, each further part in a
    flat buffer of its own laid out as ``net.flat_grad``, added in after.

    Parameters
    ----------
    net : Ensemble
    loss : Loss
    n_rows : int
        The rows of every step these parts run.
    n : int
        Parts, ``1 <= n <= n_rows``.
    """

    def __init__(self, net: Ensemble, loss: Loss, n_rows: int, n: int) -> None:
        sizes = [len(part) for part in np.array_split(np.arange(n_rows), n)]
        self.bounds = list(itertools.pairwise(itertools.accumulate(sizes, initial=0)))
        self.grads = [net.flat_grad] + [np.empty_like(net.flat_grad) for _ in sizes[1:]]
        self.nets = [net.with_gradients(g) for g in self.grads]
        self.loss, self.net, self.n_rows = loss, net, n_rows
        # Each part's batch-sized arrays, written into step after step (as a Workspace's).
        K, hidden = net.n_members, net.sizes[1:]
        self.Z = [[np.empty((K, stop - start, s), net.dtype) for s in hidden]
                  for start, stop in self.bounds]  # fmt: skip
        self.G: list[list[Array | None]] = [
            [None, *(np.empty((K, stop - start, s), net.dtype) for s in hidden[:-1])]
            for start, stop in self.bounds
        ]
        self.pace = Pace()

    def step(self, X: Array, Y: Array) -> float:
        """Fill ``net``'s ``dW`` and ``db`` for the step on ``X`` and ``Y``; return the
        members' mean loss.

        ``X: (n, n_in)``, shared, or ``(K, n, n_in)``, each member's own rows;
        ``Y: (K, n, n_out)``. The gradient is that of the members' summed loss, as
        :class:`~gradfit.engine.EnsembleStepper` forms it in one pass.
        """
        errors, workers = np.geterr(), pool()
        way = self.pace.choose() if workers is not None else SERIAL
        start = time.perf_counter()
        if workers is not None and way == PARALLEL:
            # np.errstate is per thread: each part runs in the caller's.
            futures = [workers.submit(self._step_part, p, X, Y, errors)
                       for p in range(1, len(self.nets))]  # fmt: skip
            totals = [self._step_part(0, X, Y, errors), *(f.result() for f in futures)]
        else:
            totals = [self._step_part(p, X, Y, errors) for p in range(len(self.nets))]
        self.pace.record(way, time.perf_counter() - start)
        for grad in self.grads[1:]:
            self.grads[0] += grad
        return self.loss.members_mean(sum(totals), self.net.n_members)

    def _step_part(self, p: int, X: Array, Y: Array, errors: Any) -> float:
        """Part ``p``'s forward, loss and backward; its share of the step's loss (the
        loss of its rows weighted as a batch of the step's, :meth:`Loss.batch_weight`)."""
        start, stop = self.bounds[p]
        net, loss = self.nets[p], self.loss
        weight = loss.batch_weight(stop - start, self.n_rows)
        with np.errstate(**errors):
            part = X[start:stop] if X.ndim == 2 else X[:, start:stop]
            A = net.forward(part, self.Z[p])
            value, G = loss.value_and_gradient(A, Y[:, start:stop], out=A)
            G *= loss.members_factor(net.n_members) * weight
            net.parameter_gradients(G, self.G[p])
        return value * weight
