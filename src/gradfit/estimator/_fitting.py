"""What the estimator builds to train: a backend's stepper, and its trainer."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from typing import Any

from gradfit.engine.ensemble import Ensemble
from gradfit.engine.kernel import make_stepper as engine_stepper
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import OPTIMIZERS
from gradfit.engine.pace import one_blas_thread
from gradfit.engine.stepper import Stepper
from gradfit.engine.training import Trainer
from gradfit.engine.types import Array
from gradfit.io.arrays import RowSource
from gradfit.io.streaming import Group, SourceStepper


class EstimatorTrainer(Trainer):
    """A :class:`~gradfit.engine.Trainer` that knows the estimator it trains.

    Callbacks receive it and reach the estimator as ``trainer.owner`` (its
    parameters, ``n_features_in_``, scalers); the model being trained is
    ``trainer.stepper``. Other arguments, ``bounds`` among them (the rows are shuffled
    chunk by chunk along them; rows in memory are one chunk), are
    :class:`~gradfit.engine.Trainer`'s.
    """

    def __init__(self, stepper: Stepper, *, owner: Any, **kwargs: Any) -> None:
        super().__init__(stepper, **kwargs)
        self.owner = owner


def make_stepper(
    backend: str,
    net: MLP,
    X: Array,
    Y: Array,
    *,
    loss: Loss,
    solver: str,
    hyper: dict[str, Any],
    batch_rows: int,
    device: Any = None,
    precision: str = "full",
    member_rows: Array | None = None,
) -> Stepper:
    """A :class:`~gradfit.engine.Stepper` training a copy of ``net`` on ``(X, Y)``.

    ``backend="numpy"`` steps the engine's own network with the engine's
    :mod:`~gradfit.engine.optim`, compiled where :mod:`gradfit.engine.kernel` is faster
    for ``batch_rows`` rows a step (``$GRADFIT_KERNEL`` decides); ``"torch"`` converts
    ``net`` to ``torch.nn`` on ``device`` and steps it with ``torch.optim``, in
    ``precision``. ``hyper`` uses torch's names. An :class:`~gradfit.engine.Ensemble`
    trains all its members in one batched step (one kernel call, where the kernel covers it),
    each on its own rows ``member_rows[k]`` of ``(X, Y)`` when given.
    """
    if backend == "numpy":
        net = net.copy()
        engine_optimizer = OPTIMIZERS[solver](net.parameters(), **hyper)
        return engine_stepper(net, X, Y, loss, engine_optimizer, batch_rows=batch_rows,
                              member_rows=member_rows)  # fmt: skip
    from gradfit.torch_backend import TorchStepper, make_optimizer, to_torch

    module = to_torch(net, device)
    optimizer = make_optimizer(solver, module.parameters(), **hyper)
    return TorchStepper(module, X, Y, loss=loss, optimizer=optimizer, precision=precision,
                        member_rows=member_rows)  # fmt: skip


def make_source_stepper(
    backend: str,
    net: MLP,
    source: RowSource,
    *,
    loss: Loss,
    solver: str,
    hyper: dict[str, Any],
    group: Group,
    device: Any = None,
    precision: str = "full",
) -> Stepper:
    """A :class:`~gradfit.engine.Stepper` training a copy of ``net`` on rows read from
    ``source`` in pieces of a chunk: the engine's
    :class:`~gradfit.io.streaming.SourceStepper`, or the torch backend's
    :class:`~gradfit.torch_backend.distributed.DistributedStepper`, data-parallel over
    ``group``. The other arguments are :func:`make_stepper`'s."""
    if isinstance(net, Ensemble):
        raise ValueError("an ensemble (n_members > 1) trains on arrays in memory")
    if precision != "full":
        raise ValueError(f"precision={precision!r} trains on arrays in memory")
    if backend == "numpy":
        net = net.copy()
        return SourceStepper(net, source, loss, OPTIMIZERS[solver](net.parameters(), **hyper))
    from gradfit.torch_backend import make_optimizer, to_torch
    from gradfit.torch_backend.distributed import DistributedStepper, Ranks, data_parallel

    module = to_torch(net, group.device if isinstance(group, Ranks) else device)
    optimizer = make_optimizer(solver, module.parameters(), **hyper)
    model = data_parallel(module, group)
    return DistributedStepper(model, source, loss=loss, optimizer=optimizer, group=group)


def layers_from(params: Sequence[Array]) -> tuple[list[Array], list[Array]]:
    """``[W1, b1, …]`` as scikit-learn's ``coefs_`` (``W.T``, ``(n_in, n_out)``; an
    ensemble's ``(K, n_in, n_out)``) and ``intercepts_``."""
    return [W.swapaxes(-1, -2).copy() for W in params[::2]], [b.copy() for b in params[1::2]]


SMALL_STEP = 2**24
"""Multiply-adds of a step's largest matrix product below which BLAS runs on one thread."""


def blas_threads(batch: int, sizes: Sequence[int], n_members: int = 1) -> Any:
    """A context in which NumPy's BLAS runs on one thread when a step's products are small.

    For a ``batch × n_in`` by ``n_in × n_out`` product of a few million multiply-adds,
    waking a second BLAS thread costs more than it saves, and on a busy machine a
    spinning BLAS thread takes the core the other needs: on the benchmark's 10,000 × 50
    table an epoch took 21 ms on one thread and 266 ms on two under load. Larger steps
    (full batches of big data) keep every thread.
    """
    largest = batch * n_members * max(a * b for a, b in itertools.pairwise(sizes))
    return contextlib.nullcontext() if largest >= SMALL_STEP else one_blas_thread()
