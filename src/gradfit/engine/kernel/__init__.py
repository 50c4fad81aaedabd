"""A compiled kernel for small networks: the engine's own step, compiled with numba.

For a network as small as the walk-through's 1-64-1, a NumPy step is dozens of calls on
arrays of a few thousand numbers, and the calls cost more than the arithmetic. The kernel
runs the same forward, backward and update (see :mod:`gradfit.engine.kernel.loops`) as
loops compiled to machine code, and runs many full-batch epochs per call.

Why numba: it compiles the NumPy-style loops this engine already reads like, in the same
process, with no C compiler or build step; it is a wheel on PyPI for every platform NumPy
supports; its compiled code is cached on disk (only a machine's first run pays the
compilation); and it is maintained by Anaconda and NVIDIA with NumPy's release cadence.
(JAX and torch.compile trace a graph and bring a large runtime; Cython and C++ need a
compiler at install time.)

The kernel is optional: without numba installed, or switched off, the engine steps with
NumPy (:class:`~gradfit.engine.NumpyStepper`). ``GRADFIT_KERNEL`` chooses, as does the
``kernel`` argument of :func:`gradfit.engine.train`:

- ``auto`` (default): the kernel where it covers the model and is faster (:func:`faster`);
- ``on``: the kernel wherever it covers the model;
- ``off``: never.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

from gradfit.engine.ensemble import Ensemble, EnsembleStepper
from gradfit.engine.flat import flat_of
from gradfit.engine.losses import MSE, SSE, GaussianNLL, Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import SGD, Adam, Optimizer
from gradfit.engine.types import Array

if TYPE_CHECKING:
    from gradfit.engine.stepper import Stepper

KERNEL_ENV = "GRADFIT_KERNEL"
MODES = ("auto", "on", "off")
MAX_PRODUCT_WORK = {"rank-one": 500_000, "layered": 50_000}
"""Multiply-adds of the matrix products per step (rows × Σ n_in·n_out) up to which the
kernel beats NumPy's BLAS whatever the inputs, for one hidden layer and a mean or Gaussian
head (fused, unit by unit, :func:`head`) and for other networks (layer by layer); measured
with ``benchmarks/kernel_crossover.py``."""

FEW_INPUTS = 12
"""Inputs up to which a fused network steps faster compiled at any size measured, up to
:data:`MAX_FEW_INPUTS_WORK`: a step's cost grows with ``n_in`` the same way in both, but
BLAS's products gain from a longer inner dimension and the kernel's loops do not, so the
crossover is a number of inputs rather than of multiply-adds (``kernel_crossover.py``, quiet:
1-1024-1 on 4,000 rows 0.10× NumPy's time, 4-512-1 on 2,000 0.41×, 12-200-1 on 1,000 0.76×;
16 inputs 0.9–1.05×, 24 inputs at 500,000 multiply-adds 1.06×, 50 inputs 1.1–1.4×)."""

MAX_FEW_INPUTS_WORK = 10_000_000
"""The largest step measured with :data:`FEW_INPUTS` (8.2·10⁶, still 0.10×)."""


def mode(kernel: str | None = None) -> str:
    """``kernel``, else ``$GRADFIT_KERNEL``, else ``"auto"``; checked."""
    chosen = kernel if kernel is not None else os.environ.get(KERNEL_ENV, "auto")
    chosen = chosen.strip().lower()
    if chosen not in MODES:
        where = "kernel" if kernel is not None else KERNEL_ENV
        raise ValueError(f"{where} must be one of {', '.join(MODES)}; got {chosen!r}")
    return chosen


def available() -> bool:
    """Whether numba can be imported (imports it: about 0.4 s the first time)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def covers(net: MLP, loss: Loss, optimizer: Optimizer) -> bool:
    """Whether the kernel computes this model's step: ``identity`` or ``relu``
    activations, an engine ``SGD`` or ``Adam`` over the network's own flat parameters, and
    the ``MSE`` or ``SSE`` loss, or a Gaussian head (:class:`~gradfit.engine.GaussianNLL`
    on one hidden layer and one target's mean and variance); for an
    :class:`~gradfit.engine.Ensemble`, members with one hidden layer and such a head
    (all ``K`` in one call, :func:`head`). Anything else (other activations, losses and
    ensembles) steps with NumPy."""
    return (
        net.activation in ("identity", "relu")
        and (type(loss) in (MSE, SSE) or head(tuple(net.sizes), loss) == GAUSSIAN)
        and type(optimizer) in (SGD, Adam)
        and flat_of(optimizer.params) is net.flat
        and (not isinstance(net, Ensemble) or head(tuple(net.sizes), loss) is not None)
    )


def faster(net: MLP, batch_rows: int, loss: Loss) -> bool:
    """Whether the kernel is expected to beat NumPy: few multiply-adds per step, where
    NumPy's per-call cost outweighs the arithmetic (one thread against BLAS's several), or
    a fused network with few inputs (:data:`FEW_INPUTS`).

    An ensemble's members are counted one at a time: ``K`` members cost about ``K``
    times one network both compiled and stacked in NumPy, so the faster for one is the
    faster for ``K``, and an ensemble steps where its members would alone."""
    work = batch_rows * sum(a * b for a, b in itertools.pairwise(net.sizes))
    if head(tuple(net.sizes), loss) is None:
        return work <= MAX_PRODUCT_WORK["layered"]
    few_inputs = net.sizes[0] <= FEW_INPUTS and work <= MAX_FEW_INPUTS_WORK
    return work <= MAX_PRODUCT_WORK["rank-one"] or few_inputs


def make_stepper(
    net: MLP,
    X: Array,
    Y: Array,
    loss: Loss,
    optimizer: Optimizer,
    *,
    batch_rows: int,
    kernel: str | None = None,
    member_rows: Array | None = None,
) -> Stepper:
    """The engine's stepper for this model: :class:`KernelStepper` (for an
    :class:`~gradfit.engine.Ensemble`, ``EnsembleKernelStepper``) or else
    :class:`~gradfit.engine.NumpyStepper` (:class:`~gradfit.engine.EnsembleStepper`), as
    :func:`mode` and the model decide.

    ``batch_rows`` is the rows per step, by which :func:`faster` decides; an ensemble's
    members may train on rows of their own (``member_rows``, see
    :class:`~gradfit.engine.EnsembleStepper`).
    """
    from gradfit.engine.numpy_stepper import NumpyStepper

    chosen = mode(kernel)
    wanted = chosen == "on" or (chosen == "auto" and faster(net, batch_rows, loss))
    compiled = wanted and covers(net, loss, optimizer) and available()
    if compiled:
        from gradfit.engine.kernel.stepper import EnsembleKernelStepper, KernelStepper
    if isinstance(net, Ensemble):
        kind = EnsembleKernelStepper if compiled else EnsembleStepper
        return kind(net, X, Y, loss, optimizer, member_rows)
    return (KernelStepper if compiled else NumpyStepper)(net, X, Y, loss, optimizer)


MEAN, GAUSSIAN = "mean", "gaussian"
"""The heads of the one-hidden-layer networks the kernel fuses (:func:`head`)."""


def head(sizes: tuple[int, ...], loss: Loss) -> str | None:
    """The head of a network the kernel fuses: :data:`MEAN`, one hidden layer and one
    output (the walk-through's 1-64-1; ``MSE`` or ``SSE``), or :data:`GAUSSIAN`, one
    hidden layer and a mean and a variance (:class:`~gradfit.engine.GaussianNLL`, one
    target); ``None`` for other networks (stepped layer by layer, one network at a time)."""
    if len(sizes) != 3:
        return None
    if type(loss) is GaussianNLL:
        return GAUSSIAN if sizes[2] == 2 else None
    return MEAN if sizes[2] == 1 else None
