"""The compiled :class:`~gradfit.engine.Stepper`: the engine's network, loss and optimizer,
stepped by :mod:`gradfit.engine.kernel.loops`."""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any

import numpy as np

from gradfit.engine.batches import Rows
from gradfit.engine.ensemble import Ensemble, members_loss
from gradfit.engine.flat import split_flat
from gradfit.engine.kernel import GAUSSIAN, MEAN, elements, head, loops, members
from gradfit.engine.losses import GaussianNLL, Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import SGD, Adam, Optimizer
from gradfit.engine.pace import PARALLEL, SERIAL, Pace, cores
from gradfit.engine.stepper import EngineStepper, EpochsRun
from gradfit.engine.types import Array

ACTIVATIONS = {"identity": elements.IDENTITY, "relu": elements.RELU}

PARALLEL_WORK = 300_000
"""Multiply-adds of an ensemble's step (``K · rows · Σ n_in·n_out``) from which its members
run in two lanes of equal work, which may run on the cores: ``benchmarks/ensemble_speed.py``'s
Boston-sized workload (3.5·10⁵ with a mean head, 3.75·10⁵ with a Gaussian head; a step of
about 150 µs compiled) and its large one (2.2·10⁶) are above it; its sine (1.9·10⁴, 25 µs)
is below, where a parallel region's start and join cost more than the second core gives
back, and so is the defaults' five 1-100-1 members on batches of 200 (2·10⁵), which the
first run of ``gradfit fit`` on one input column takes (``benchmarks/firstrun.py``)."""

LANES = 2
"""The lanes of equal work such a step's members run in, an odd ``K``'s middle member cut in
two pieces of its rows (:func:`~gradfit.engine.kernel.members.tasks`): two cores' worth."""

ON_THE_CORES = threading.Lock()
"""Held while a compiled loop runs members on the cores."""

_cores = {"used": False, "usable": True}
"""Whether this process has run members on the cores, and whether it still may: not in a
child forked after that, where GNU OpenMP (numba's usual threading layer) would abort."""


def _forked() -> None:
    _cores["usable"] = not _cores["used"]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


class KernelStepper(EngineStepper):
    """:class:`~gradfit.engine.NumpyStepper`'s job, compiled: one call runs a step, or
    many full-batch epochs (:meth:`run_epochs`), in the network's and the optimizer's own
    flat buffers.

    Parameters
    ----------
    net : MLP
        With ``identity`` or ``relu`` activations (see :func:`~gradfit.engine.kernel.covers`).
    X : (n_samples, n_in) array
    Y : (n_samples, n_targets) array
    loss : Loss
        ``MSE`` or ``SSE``; or ``GaussianNLL`` for one hidden layer and a Gaussian head
        (:func:`~gradfit.engine.kernel.head`).
    optimizer : SGD or Adam
        Built over ``net.parameters()``.
    """

    def __init__(
        self,
        net: MLP,
        X: Array,
        Y: Array,
        loss: Loss,
        optimizer: Optimizer,
        member_rows: Array | None = None,
    ) -> None:
        self.net, self.loss, self.optimizer = net, loss, optimizer
        self.X, self.Y = np.ascontiguousarray(X), np.ascontiguousarray(Y)
        self._head = head(tuple(net.sizes), loss)
        # The loops' X: one input to a mean head as a vector, for its own loops (and only
        # they compile: see rank_one_member).
        one_input = self._head == MEAN and self.X.shape[1] == 1
        self._X = self.X[:, 0] if one_input else self.X
        # The rows a step may take, as the loops index them: (R, n) for the fused loops
        # (R = K members on rows of their own, else 1), (n,) for the layered one.
        if member_rows is not None:
            self._all_rows = np.ascontiguousarray(member_rows, dtype=np.int64)
        else:
            rows = np.arange(X.shape[0])
            self._all_rows = rows if self._head is None else rows[None]
        self.n_samples = self._all_rows.shape[-1]
        self._sizes = np.asarray(net.sizes, np.int64)
        self._activation = ACTIVATIONS[net.activation]
        self._snapshots = np.empty((2, net.flat.size), net.dtype)
        self._work = np.empty(0, net.dtype)
        self._losses = np.empty(1)
        self._divisors: dict[int, int] = {}
        self._run_steps = loops.run_layered if self._head is None else loops.run_rank_one
        self._gaussian = (float(loss.min_variance),) if isinstance(loss, GaussianNLL) else ()
        self._members = net.n_members if isinstance(net, Ensemble) else 1
        # Per batch size, how its steps run (_plan).
        self._plans: dict[int, tuple[Array, Array, Pace | None] | None] = {}
        # A cut member's second piece writes here; the rest stays 0.
        self._piece_grad = np.zeros(net.flat.size, net.dtype)

    def _optimizer(self) -> tuple[int, Array, Array, Array]:
        """The optimizer's code, hyperparameters and flat state buffers, read afresh (a
        ``load_state_dict`` or a change of ``lr`` applies at the next step)."""
        opt, buffers = self.optimizer, self.optimizer.flat_buffers()
        empty = np.empty(0, self.net.dtype)
        if isinstance(opt, Adam):
            hyper = [opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay]
            return elements.ADAM, np.array(hyper, float), buffers["m"], buffers["v"]
        assert isinstance(opt, SGD)
        hyper = [opt.lr, opt.momentum, opt.dampening, opt.weight_decay, float(opt.nesterov)]
        return elements.SGD, np.array(hyper, float), buffers.get("b", empty), empty

    def _run(self, rows: Array, n_steps: int) -> tuple[int, int]:
        """``n_steps`` steps on ``rows``; see :func:`~gradfit.engine.kernel.loops.run_rank_one`."""
        n = rows.shape[-1]
        if n not in self._plans:  # a new batch size: how its steps run, and their room
            plan = self._plans[n] = self._plan(n)
            tasks = 1 if plan is None else len(plan[0])  # each task has work of its own
            size = tasks * loops.work_size(tuple(self.net.sizes), n, self._head is not None)
            if self._work.size < size:
                self._work = np.empty(size, self.net.dtype)
        if self._losses.size < n_steps:
            self._losses = np.empty(n_steps)
        code, hyper, m, v = self._optimizer()
        opt, divisor = self.optimizer, self._divisors.get(n)
        if divisor is None:  # the loss's reduction for batches of this many rows, kept
            divisor = self._divisors[n] = self.loss.divisor((n, self.Y.shape[1]))
        done, failure = self._steps(
            self._X, self.Y, rows, n_steps, self.net.flat, self.net.flat_grad, m, v, opt.t,
            code, hyper, self._sizes, self._work, self._activation, divisor,
            self._losses, self._snapshots,
        )  # fmt: skip
        opt.t += done + (failure != 0)
        return int(done), int(failure)

    def _steps(self, *args: Any) -> tuple[int, int]:
        """The compiled loop's call on :meth:`_run`'s arguments.

        A network of its own layers, or one whose members' step is small and mean head,
        takes its loop whole (:func:`~gradfit.engine.kernel.loops.run_layered`,
        :func:`~gradfit.engine.kernel.loops.run_rank_one`). A Gaussian head, and an
        ensemble whose step's products reach :data:`PARALLEL_WORK`, step as tasks
        (:func:`~gradfit.engine.kernel.loops.run_rank_one_members`): the latter in
        :data:`LANES` lanes of equal work, on the cores where the machine has them and
        that has been faster lately (:class:`~gradfit.engine.pace.Pace`), else one after
        another, the same numbers either way. One call at a time runs on the cores
        (another thread's runs its tasks in turn rather than wait): numba's fallback
        threading layer, ``workqueue``, cannot run two at once; nor does a child forked
        after its parent ran members on the cores."""
        rows, n_steps = args[2], args[3]
        plan = self._plans[rows.shape[-1]]
        if plan is None:
            return self._run_steps(*args)
        table, task_losses, pace = plan
        way = SERIAL if pace is None or not _cores["usable"] else pace.choose()
        start = time.perf_counter()
        on_the_cores = way == PARALLEL and ON_THE_CORES.acquire(blocking=False)
        try:
            _cores["used"] |= on_the_cores
            members_loop: Any = loops.run_rank_one_members
            done, failure = members_loop(*args, table, self._piece_grad, task_losses,
                                         on_the_cores, self._gaussian)  # fmt: skip
        finally:
            if on_the_cores:
                ON_THE_CORES.release()
        if pace is not None:
            pace.record(PARALLEL if on_the_cores else SERIAL, time.perf_counter() - start, n_steps)
        return done, failure

    def _plan(self, n: int) -> tuple[Array, Array, Pace | None] | None:
        """How steps on ``n`` rows run: ``None`` for the whole loop, else the tasks
        (:func:`~gradfit.engine.kernel.members.tasks`), room for their losses, and the pace
        of the two ways (``None`` where they take one thread). An ensemble's members run in
        :data:`LANES` lanes where its products reach :data:`PARALLEL_WORK`: by the step's
        size alone, so that the numbers do not depend on the cores."""
        work = self._members * n * sum(a * b for a, b in itertools.pairwise(self.net.sizes))
        parted = self._members > 1 and work >= PARALLEL_WORK and self._head is not None
        if not parted and self._head != GAUSSIAN:
            return None
        table = members.tasks(self._members, n, LANES if parted else 1)
        return table, np.empty(len(table)), Pace() if parted and cores() > 1 else None

    def step(self, rows: Rows) -> float:
        index = self._all_rows if rows is None else np.ascontiguousarray(self._all_rows[..., rows])
        self._run(index, 1)
        return float(self._losses[0])

    def run_epochs(self, epochs: int) -> EpochsRun:
        """Up to ``epochs`` full-batch epochs in one call, stopping at divergence."""
        done, failure = self._run(self._all_rows, epochs)
        like = self.net.parameters()
        last = self._snapshots[done % 2] if failure else self.net.flat
        return EpochsRun(
            losses=self._losses[:done].tolist(),
            failure=(None, "loss", "parameter")[failure],
            previous=split_flat(self._snapshots[(done - 1) % 2].copy(), like) if done else None,
            last=split_flat(last.copy(), like),
        )


class EnsembleKernelStepper(KernelStepper):
    """:class:`~gradfit.engine.EnsembleStepper`'s job, compiled: the ``K`` members of an
    :class:`~gradfit.engine.Ensemble` with one hidden layer and a mean or Gaussian head,
    all stepped in one kernel call on the same rows, each with its own loss's gradient (so
    each as it would be trained alone); the loss reported is the members' mean.

    Parameters are :class:`KernelStepper`'s, with ``net`` an :class:`~gradfit.engine.Ensemble`
    and ``member_rows`` as :class:`~gradfit.engine.EnsembleStepper` takes them (each member
    on rows of its own).
    """

    net: Ensemble

    def evaluate(self, X: Array, Y: Array) -> float:
        return members_loss(self.net, self.loss, X, Y)
