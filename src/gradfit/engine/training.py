"""The training loop: epochs of (mini)batches, history, logging, and divergence.

The loop is the same for every backend. It chooses the rows of each batch (with a
seeded ``numpy.random.Generator``, so every backend sees the same order) and hands
them to a :class:`Stepper`, which does one forward/backward/update on its own arrays.

Conventions
-----------
``history.loss[i]`` is the training loss of epoch ``i`` (0-based): with full batches
it is the loss at the parameters *before* update ``i``; with minibatches, the losses
of the epoch's batches combined as the loss reduces (mean: weighted by batch size;
sum: added). When parameters are recorded, ``history.parameters`` holds ``epochs + 1``
snapshots: the initial parameters, then those after every epoch.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gradfit.engine.flat import split_flat
from gradfit.engine.losses import Loss, get_loss, head_width
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.types import Array
from gradfit.errors import DivergenceError

Rows = slice | Array | None
"""The rows of one batch: ``None`` for all, a slice, or an index array."""


class Stepper(Protocol):
    """One backend's model, data, loss and optimizer, stepped by :class:`Trainer`."""

    loss: Loss
    n_samples: int

    def step(self, rows: Rows) -> float:
        """Forward, backward and update on ``rows``; return the loss before the update."""
        ...

    def evaluate(self, X: Array, Y: Array) -> float:
        """The loss on ``(X, Y)`` at the current parameters, without updating."""
        ...

    def get_parameters(self, out: list[Array] | None = None) -> list[Array]:
        """Copies of ``[W1, b1, …]`` as NumPy arrays; into ``out`` when given, which must
        be an earlier return value (its arrays are overwritten)."""
        ...

    def parameters_finite(self) -> bool:
        """Whether every parameter is finite (no NaN or infinity)."""
        ...

    def set_parameters(self, params: Sequence[Array]) -> None:
        """Overwrite the parameters with ``params``."""
        ...

    def optimizer_state(self) -> dict[str, Any]:
        """The optimizer's state (step count and buffers), as NumPy arrays."""
        ...

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`optimizer_state` returned."""
        ...


@dataclass
class EpochsRun:
    """What :meth:`EpochRunner.run_epochs` did.

    Attributes
    ----------
    losses : list of float
        The loss of each epoch that ended with a finite loss and finite parameters.
    failure : {None, "loss", "parameter"}
        What stopped the run early: the next epoch's loss, or its update, was not finite.
    previous, last : lists of arrays, or None
        ``[W1, b1, …]`` at the start and at the end of the last epoch in ``losses``
        (``previous`` is ``None`` when ``losses`` is empty).
    """

    losses: list[float]
    failure: str | None
    previous: list[Array] | None
    last: list[Array]


@runtime_checkable
class EpochRunner(Protocol):
    """A :class:`Stepper` that can also run many full-batch epochs in one call."""

    def run_epochs(self, epochs: int) -> EpochsRun:
        """Up to ``epochs`` full-batch epochs, stopping after one that diverged."""
        ...


@dataclass
class History:
    """What training recorded.

    Attributes
    ----------
    loss : list of float
        Training loss per epoch (see the module docstring for what it is).
    val_loss : list of float
        Validation loss at the end of each epoch, when validation data was given.
    parameters : list of list of arrays, or None
        ``epochs + 1`` snapshots ``[W1, b1, …]`` when recorded, else ``None``.
    loss_name : str
        ``"mse"`` (mean of squared errors) or ``"sse"`` (sum of squared errors).
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    parameters: list[list[Array]] | None = None
    loss_name: str = "mse"

    @property
    def epochs(self) -> int:
        return len(self.loss)


LOSS_LABELS = {
    "mse": "mean squared error",
    "sse": "sum of squared errors",
    "gaussian_nll": "Gaussian negative log-likelihood",
    "cross_entropy": "cross-entropy",
    "binary_cross_entropy": "binary cross-entropy",
}

EXPLOSION = 1e6
"""A loss this many times the first epoch's counts as exploded, though finite."""

EXPLOSION_EPOCHS = 3
"""Epochs in a row of exploded loss that count as divergence."""


def log_line(epoch: int, loss: float, loss_name: str) -> str:
    """The walk-through's log line, ``Epoch: 10  Loss: 94.4 (sum of squared errors)``."""
    return f"Epoch: {epoch:>4}  Loss: {loss:.6g} ({LOSS_LABELS.get(loss_name, loss_name)})"


Callback = Callable[["Trainer"], None]
"""Called after every epoch with the trainer; may set ``trainer.stop = True``."""


class Trainer:
    """Runs epochs of a :class:`Stepper` and records a :class:`History`.

    Parameters
    ----------
    stepper : Stepper
        The backend's model, data, loss and optimizer.
    batch_size : int or None
        Rows per update; ``None`` (or ``>= n_samples``) is full-batch gradient descent.
    shuffle : bool
        Draw a new order of the rows every epoch (minibatches only).
    rng : numpy.random.Generator
        Source of the shuffling.
    validation : (X_val, Y_val) or None
        Data to evaluate at the end of every epoch into ``history.val_loss``: the
        arguments of ``stepper.evaluate`` (a streaming stepper takes ``(source, None)``).
    record_parameters : bool
        Keep a copy of every epoch's parameters in ``history.parameters``.
    log_every : int or None
        Write :func:`log_line` every ``log_every`` epochs through ``log``.
    callbacks : sequence of callables
        Each called as ``callback(trainer)`` after every epoch.
    """

    def __init__(
        self,
        stepper: Stepper,
        *,
        batch_size: int | None = None,
        shuffle: bool = True,
        rng: np.random.Generator,
        validation: tuple[Any, Any] | None = None,
        record_parameters: bool = False,
        log_every: int | None = None,
        log: Callable[[str], None] = print,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        n = stepper.n_samples
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size}")
        self.stepper = stepper
        self.batch_size = n if batch_size is None else min(int(batch_size), n)
        self.shuffle = shuffle
        self.rng = rng
        self.validation = validation
        self.log_every = log_every
        self.log = log
        self.callbacks = list(callbacks)
        self.history = History(loss_name=stepper.loss.name)
        if record_parameters:
            self.history.parameters = [stepper.get_parameters()]
        self.epoch = 0
        self.stop = False
        self.keep_parameters()

    def keep_parameters(self) -> None:
        """Take the current parameters as those of the last epoch and the one before,
        which divergence goes back to."""
        self._good = self.stepper.get_parameters()
        self._previous = self.stepper.get_parameters()
        # While the loss is exploding: the epoch before it began, and its parameters.
        self._sane: tuple[int, list[Array]] | None = None

    @property
    def full_batch(self) -> bool:
        return self.batch_size >= self.stepper.n_samples

    def batches(self) -> Iterator[Rows]:
        """The rows of each batch of one epoch."""
        n, B = self.stepper.n_samples, self.batch_size
        if self.full_batch:
            yield None
            return
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, n, B):
            yield slice(start, start + B) if order is None else order[start : start + B]

    def run_epoch(self) -> float:
        """One pass over the data; returns the epoch's loss and records it."""
        stepper, n = self.stepper, self.stepper.n_samples
        mean = stepper.loss.reduction == "mean"
        total = 0.0
        for i, rows in enumerate(self.batches()):
            loss = stepper.step(rows)
            if not math.isfinite(loss):
                what = "the loss after its update" if i == 0 and self.epoch else "the loss"
                self._diverged(what, last_epoch_too=i == 0)
            if mean and not self.full_batch:
                assert rows is not None
                n_rows = len(range(n)[rows]) if isinstance(rows, slice) else len(rows)
                loss *= n_rows / n
            total += loss
        self._record(total)
        return total

    def _record(self, loss: float) -> None:
        h = self.history
        self._check_explosion(loss)
        h.loss.append(loss)
        # Unless recorded, the parameters go into the copies of the epoch before last.
        params = self.stepper.get_parameters(
            out=None if h.parameters is not None else self._previous
        )
        if not self.stepper.parameters_finite():
            h.loss.pop()
            self._diverged("a parameter")
        self._previous, self._good = self._good, params
        if h.parameters is not None:
            h.parameters.append(params)
        if self.validation is not None:
            h.val_loss.append(self.stepper.evaluate(*self.validation))
        self.epoch += 1
        if self.log_every and self.epoch % self.log_every == 0:
            self.log(log_line(self.epoch, loss, h.loss_name))

    def _check_explosion(self, loss: float) -> None:
        """Divergence that stays finite: the loss above :data:`EXPLOSION` times the first
        epoch's for :data:`EXPLOSION_EPOCHS` epochs in a row (an lr far too high, say).

        Goes back to the parameters before the first of those epochs' predecessor —
        the last ones whose loss is known to be sane — and raises.
        """
        h = self.history
        first = h.loss[0] if h.loss else 0.0
        if not (first > 0 and loss > EXPLOSION * first):
            self._sane = None
            return
        if self._sane is None:
            # The loss of this epoch was measured from _good on; _previous came before.
            self._sane = (max(self.epoch - 1, 0), [p.copy() for p in self._previous])
        epoch, params = self._sane
        if self.epoch + 1 - epoch <= EXPLOSION_EPOCHS:
            return
        del h.loss[epoch:], h.val_loss[epoch:]
        if h.parameters is not None:
            del h.parameters[epoch + 1 :]
        self.epoch = epoch
        self.stepper.set_parameters(params)
        self.keep_parameters()
        kept = f"those after epoch {epoch}" if epoch else "the initial ones"
        raise DivergenceError(
            f"training diverged in epoch {epoch + 1}: from there the loss rose from "
            f"{first:.3g} to {loss:.3g}, over {EXPLOSION:g} times its first value, for "
            f"{EXPLOSION_EPOCHS} epochs in a row, finite but useless. The parameters from "
            f"before it rose were kept ({kept}). Try a lower learning rate, or standardise "
            "the inputs and targets.",
            epoch=epoch,
        )

    def _diverged(self, what: str, *, last_epoch_too: bool = False) -> None:
        if last_epoch_too and self.epoch > 0:
            # The loss is non-finite at the parameters the last epoch produced, so that
            # epoch diverged: the model would predict inf. Go back to the one before it.
            self.epoch -= 1
            h = self.history
            del h.loss[self.epoch :], h.val_loss[self.epoch :]
            if h.parameters is not None:
                del h.parameters[self.epoch + 1 :]
            self._good = self._previous
        self.stepper.set_parameters(self._good)
        self.keep_parameters()
        raise DivergenceError(
            f"training diverged in epoch {self.epoch + 1}: {what} became NaN or infinite. "
            "The parameters of the last finite epoch were kept. Try a lower learning rate, "
            "or standardise the inputs and targets.",
            epoch=self.epoch,
        )

    def fit(self, epochs: int) -> History:
        """Run ``epochs`` more epochs (or until a callback sets ``stop``); return the history.

        Ctrl-C (SIGINT) is deferred to the end of the current epoch, after its
        callbacks, so the parameters and optimizer state are never left half-updated;
        it then raises :class:`KeyboardInterrupt` with the trainer between epochs,
        where :meth:`state_dict` is an exact checkpoint.
        """
        self.stop = False
        # Divergence is detected and reported as DivergenceError; NumPy's overflow
        # warnings on the way there would only be noise (or errors under -W error).
        quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        with _deferred_sigint() as interrupted, quiet:
            if self._unobserved() and isinstance(self.stepper, EpochRunner):
                self._fit_in_runs(self.stepper, epochs, interrupted)
                return self.history
            for _ in range(epochs):
                self.run_epoch()
                for callback in self.callbacks:
                    callback(self)
                if interrupted():
                    raise KeyboardInterrupt
                if self.stop:
                    break
        return self.history

    def _unobserved(self) -> bool:
        """Full batch, and nothing looks at an epoch's end but the log: no callbacks,
        validation or recorded parameters. Epochs may then run many to a call."""
        return (
            self.full_batch
            and not self.callbacks
            and self.validation is None
            and self.history.parameters is None
        )

    def _fit_in_runs(
        self, runner: EpochRunner, epochs: int, interrupted: Callable[[], bool]
    ) -> None:
        """:meth:`fit`'s loop with the epochs run by ``runner`` in batches of them: each
        run ends at a log line, and is sized to take about 50 ms (so Ctrl-C is still
        answered at once); the history, the log, divergence and the parameters kept
        for it are what running them one at a time gives."""
        h, left, size = self.history, epochs, 1
        while left:
            n = min(left, size)
            if self.log_every:
                n = min(n, self.log_every - self.epoch % self.log_every)
            start = time.perf_counter()
            run = runner.run_epochs(n)
            if run.losses:
                h.loss += run.losses
                self.epoch += len(run.losses)
                left -= len(run.losses)
                assert run.previous is not None
                self._previous, self._good = run.previous, run.last
            if run.failure == "loss":
                what = "the loss after its update" if self.epoch else "the loss"
                self._diverged(what, last_epoch_too=True)
            elif run.failure == "parameter":
                self._diverged("a parameter")
            if self.log_every and self.epoch % self.log_every == 0:
                self.log(log_line(self.epoch, h.loss[-1], h.loss_name))
            if interrupted():
                raise KeyboardInterrupt
            if time.perf_counter() - start < 0.05:
                size *= 2

    def state_dict(self) -> dict[str, Any]:
        """Everything an exact resume needs, taken between epochs (copies).

        ``epoch``, ``batch_size``, ``shuffle``; ``parameters`` and ``optimizer``
        (:meth:`Stepper.optimizer_state`), NumPy arrays the same from either backend;
        ``rng``, the shuffling generator's ``bit_generator.state``; ``history``; and
        ``callbacks``, ``{"type", "state"}`` of each callback with a ``state_dict()``.
        :func:`gradfit.io.checkpoint.save_checkpoint` writes it to a file.
        """
        from gradfit.engine.state import trainer_state

        return trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict`: the next :meth:`fit` goes on bit for bit.

        This trainer must be built as the saved one was: same network, optimizer,
        loss, batch size, shuffling, kind of generator, parameter recording, and
        callbacks with state in the same order. Keys other than those of
        :meth:`state_dict` are ignored.

        Raises
        ------
        ModelFileError
            Naming the first thing that does not match; the trainer is then unchanged.
        """
        from gradfit.engine.state import load_trainer_state

        load_trainer_state(self, state)


@contextmanager
def _deferred_sigint() -> Iterator[Callable[[], bool]]:
    """Record SIGINT instead of raising it mid-update; yields ``interrupted()``."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    hit: list[bool] = []
    previous = signal.signal(signal.SIGINT, lambda *_: hit.append(True))
    try:
        yield lambda: bool(hit)
    finally:
        signal.signal(signal.SIGINT, previous)


class EngineStepper:
    """What the engine's steppers share: an :class:`MLP` ``net``, a ``loss`` and an
    ``optimizer`` over ``net.parameters()``; subclasses add the data and ``step``."""

    net: MLP
    loss: Loss
    optimizer: Optimizer

    def evaluate(self, X: Array, Y: Array) -> float:
        return self.loss.value(self.net.forward(X), Y)

    def get_parameters(self, out: list[Array] | None = None) -> list[Array]:
        # Views of one copy of the flat buffer, which one call refreshes.
        if out is None:
            return split_flat(self.net.flat.copy(), self.net.parameters())
        flat = out[0].base
        if not isinstance(flat, np.ndarray) or flat.shape != self.net.flat.shape:
            raise ValueError("out must be what get_parameters returned")
        np.copyto(flat, self.net.flat)
        return out

    def parameters_finite(self) -> bool:
        return bool(np.isfinite(self.net.flat).all())

    def set_parameters(self, params: Sequence[Array]) -> None:
        self.net.set_parameters(params)

    def optimizer_state(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)


class NumpyStepper(EngineStepper):
    """The engine's :class:`Stepper`: an :class:`MLP`, its data, a loss and an optimizer.

    A step is :meth:`MLP.forward` and :meth:`MLP.backward` written for speed, with the
    same gradients: every batch-sized array lives in a workspace reused from step to
    step; the first layer takes its bias as a column of ones, ``Z₁ = [X 1] [W₁ b₁]ᵀ``,
    so one product gives ``Z₁`` and one gives ``[dW₁ db₁]``; and no ``dL/dX`` of the
    data is formed. With one hidden layer and one output (the walk-through's 1-64-1),
    ``dL/dZ₁ = (g w₂) ⊙ F`` for ``g = dL/dŶ``, ``w₂ = W₂`` and ``F = f'(Z₁)``, so
    ``[dW₁ db₁] = diag(w₂) Fᵀ (g ⊙ [X 1])`` without the ``(n, hidden)`` matrix ``dL/dZ₁``.

    Parameters
    ----------
    net : MLP
    X : (n_samples, n_in) array
    Y : (n_samples, n_out) array
    loss : Loss
    optimizer : Optimizer
        Built over ``net.parameters()``.
    """

    def __init__(self, net: MLP, X: Array, Y: Array, loss: Loss, optimizer: Optimizer) -> None:
        self.net, self.X, self.Y = net, X, Y
        self.loss, self.optimizer = loss, optimizer
        self.n_samples = X.shape[0]
        self._grads = net.gradients()
        hidden, n_in = net.dense[0].W.shape
        # [W₁ b₁]ᵀ and [dW₁ db₁]ᵀ, (n_in + 1, hidden): with one input, W₁ and b₁ (and dW₁
        # and db₁) lie one after the other at the start of the network's flat buffers,
        # and are those matrices already; otherwise they are copied in and out.
        self._in_place = n_in == 1
        if self._in_place:
            self._WbT = net.flat[: 2 * hidden].reshape(2, hidden)
            self._dWbT = net.flat_grad[: 2 * hidden].reshape(2, hidden)
        else:
            self._WbT = np.empty((n_in + 1, hidden), net.dtype)
            self._dWbT = np.empty_like(self._WbT)
        self._rank_one = len(net.dense) == 2 and net.sizes[-1] == 1
        self._rows = 0
        self._views: tuple[int, list[Array], list[Array]] = (-1, [], [])
        self._full_batch_ready = False

    def _workspace(self, n: int) -> tuple[list[Array], list[Array]]:
        """Each layer's ``Z`` (then ``A``, in place), ``(n, n_out)``, and the gradient for
        each input but the first layer's, ``(n, n_in)``; allocated for at least ``n``
        rows, with ``_X1`` for the rows ``[X 1]`` (and ``_gX1`` for ``g ⊙ [X 1]``).

        Reused from step to step: a step then allocates no batch-sized array, each of
        which would cost the operating system's page faults afresh.
        """
        if n > self._rows:
            dtype, dense = self.net.dtype, self.net.dense
            self._X1 = np.ones((n, dense[0].W.shape[1] + 1), dtype)
            self._gX1 = np.empty_like(self._X1) if self._rank_one else self._X1[:0]
            self._Z = [np.empty((n, d.W.shape[0]), dtype) for d in dense]
            self._G = [np.empty((n, d.W.shape[1]), dtype) for d in dense[1:]]
            self._rows, self._full_batch_ready = n, False
            self._views = (-1, [], [])
        if self._views[0] != n:
            self._views = (n, [Z[:n] for Z in self._Z], [G[:n] for G in self._G])
        return self._views[1], self._views[2]

    def _batch(self, rows: Rows) -> tuple[Array, Array, list[Array], list[Array]]:
        """``[X 1]`` and ``Y`` of ``rows``, and the workspace for them (the full batch's
        ``[X 1]`` is filled once)."""
        if rows is None:
            n = self.n_samples
            Zs, Gs = self._workspace(n)
            if not self._full_batch_ready:
                self._X1[:n, :-1] = self.X
                self._full_batch_ready = True
            return self._X1[:n], self.Y, Zs, Gs
        X, Y = self.X[rows], self.Y[rows]
        Zs, Gs = self._workspace(len(X))
        self._full_batch_ready = False
        X1 = self._X1[: len(X)]
        X1[:, :-1] = X
        return X1, Y, Zs, Gs

    def step(self, rows: Rows) -> float:
        X1, Y, Zs, Gs = self._batch(rows)
        net, WbT, dWbT = self.net, self._WbT, self._dWbT
        dense, f = net.dense, net.activations
        if not self._in_place:
            WbT[:-1], WbT[-1] = dense[0].W.T, dense[0].b
        A = f[0].forward(np.matmul(X1, WbT, out=Zs[0]), out=Zs[0])
        for i in range(1, len(dense)):
            A = f[i].forward(dense[i].forward(A, out=Zs[i]), out=Zs[i])
        value, G = self.loss.value_and_gradient(A, Y, out=A)
        G = f[-1].backward(G, out=G)
        if self._rank_one:
            dense[1].parameter_gradients(G)
            gX1 = np.multiply(X1, G, out=self._gX1[: X1.shape[0]])
            np.matmul(gX1.T, f[0].derivative(), out=dWbT)
            dWbT *= dense[1].W
        else:
            for i in range(len(dense) - 1, 0, -1):
                G = f[i - 1].backward(dense[i].backward(G, out=Gs[i - 1]), out=Gs[i - 1])
            np.matmul(X1.T, G, out=dWbT)
        if not self._in_place:
            dense[0].dW[...], dense[0].db[...] = dWbT[:-1].T, dWbT[-1]
        self.optimizer.step(self._grads)
        return value


def train(
    net: MLP,
    X: Array,
    Y: Array,
    *,
    optimizer: Optimizer,
    epochs: int,
    loss: str | Loss = "mse",
    batch_size: int | None = None,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
    validation: tuple[Array, Array] | None = None,
    record_parameters: bool = False,
    log_every: int | None = None,
    log: Callable[[str], None] = print,
    callbacks: Sequence[Callback] = (),
    kernel: str | None = None,
) -> History:
    """Train ``net`` on ``(X, Y)`` in place and return its :class:`History`.

    ``X: (n_samples, n_in)``, ``Y: (n_samples, n_out)``, both of the network's dtype.
    ``optimizer`` must have been built over ``net.parameters()``. See :class:`Trainer`
    for the other arguments; ``rng`` is needed only to shuffle minibatches.
    ``kernel`` is ``"auto"``, ``"on"`` or ``"off"``: whether to step with the compiled
    kernel (:mod:`gradfit.engine.kernel`); by default ``$GRADFIT_KERNEL``, else ``auto``.

    Raises
    ------
    DivergenceError
        When the loss or a parameter becomes non-finite; ``net`` then holds the
        parameters of the last finite epoch.
    """
    from gradfit.validation import check_training_data

    X, Y = check_training_data(X, Y, dtype=net.dtype, n_features=net.sizes[0])
    loss = get_loss(loss)
    if head_width(loss, Y.shape[1]) != net.sizes[-1]:
        per_column = (
            "; a gaussian_nll head needs 2 per column" if loss.name == "gaussian_nll" else ""
        )
        raise ValueError(
            f"net has {net.sizes[-1]} outputs but Y has {Y.shape[1]} columns{per_column}"
        )
    if rng is None:
        rng = np.random.default_rng()
    from gradfit.engine.kernel import make_stepper

    rows = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
    stepper = make_stepper(net, X, Y, loss, optimizer, batch_rows=rows, kernel=kernel)
    trainer = Trainer(
        stepper,
        batch_size=batch_size,
        shuffle=shuffle,
        rng=rng,
        validation=validation,
        record_parameters=record_parameters,
        log_every=log_every,
        log=log,
        callbacks=callbacks,
    )
    return trainer.fit(epochs)
