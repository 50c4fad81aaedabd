"""The training loop: epochs of (mini)batches, history, logging, and divergence.

The loop is the same for every backend. It chooses the rows of each batch (with a
seeded ``numpy.random.Generator``, so every backend sees the same order; see
:mod:`gradfit.engine.batches`) and hands them to a :class:`~gradfit.engine.Stepper`,
which does one forward/backward/update on its own arrays. What it records is a
:class:`~gradfit.engine.History`.
"""

from __future__ import annotations

import math
import numbers
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from gradfit.engine.batches import Rows, count_rows, epoch_batches
from gradfit.engine.divergence import EXPLOSION, DivergenceGuard
from gradfit.engine.history import History, log_line
from gradfit.engine.losses import Loss, get_loss, head_width
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.stepper import EpochRunner, Stepper
from gradfit.engine.types import Array
from gradfit.engine.validation import check_training_data

Callback = Callable[["Trainer"], None]
"""Called after every epoch with the trainer; may set ``trainer.stop = True``."""


class Trainer(DivergenceGuard):
    """Runs epochs of a :class:`Stepper` and records a :class:`History`.

    When the loss or a parameter stops being finite, or the loss explodes, it goes back
    to the last sane parameters and raises (:class:`~gradfit.engine.divergence.DivergenceGuard`).

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
    bounds : array of int, optional
        The data's chunk boundaries ``[0, …, n_samples]``, for an order of the rows drawn
        chunk by chunk (:func:`~gradfit.engine.batches.epoch_batches`) from data that does
        not fit in memory; by default one chunk, whose order is ``rng.permutation(n)``.
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
        bounds: Array | None = None,
    ) -> None:
        n = stepper.n_samples
        _check_batch_size(batch_size)
        if log_every is not None and not _whole(log_every, 1):
            raise ValueError(f"log_every must be a positive integer or None, got {log_every!r}")
        self.stepper = stepper
        self.batch_size = n if batch_size is None else min(int(batch_size), n)
        self.shuffle = shuffle
        self.rng = rng
        self.validation = validation
        self.log_every = log_every
        self.log = log
        self.callbacks = list(callbacks)
        self.bounds = np.asarray([0, n] if bounds is None else bounds, dtype=np.int64)
        if self.bounds[0] != 0 or self.bounds[-1] != n:
            raise ValueError(f"bounds must run from 0 to the {n} samples, got {bounds}")
        self.history = History(loss_name=stepper.loss.name)
        if record_parameters:
            self.history.parameters = [stepper.get_parameters()]
        self.epoch = 0
        self.stop = False
        self.keep_parameters()

    @property
    def full_batch(self) -> bool:
        return self.batch_size >= self.stepper.n_samples

    def batches(self) -> Iterator[Rows]:
        """The rows of each batch of one epoch."""
        return epoch_batches(self.bounds, self.batch_size, self.rng, shuffle=self.shuffle)

    def run_epoch(self) -> float:
        """One pass over the data; returns the epoch's loss and records it."""
        stepper, n = self.stepper, self.stepper.n_samples
        total = 0.0
        for i, rows in enumerate(self.batches()):
            loss = stepper.step(rows)
            if not math.isfinite(loss):
                what = "the loss after its update" if i == 0 and self.epoch else "the loss"
                self._diverged(what, last_epoch_too=i == 0)
            if rows is not None:
                loss *= stepper.loss.batch_weight(count_rows(rows, n), n)
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

    def fit(self, epochs: int) -> History:
        """Run ``epochs`` more epochs (or until a callback sets ``stop``); return the history.

        Ctrl-C (SIGINT) is deferred to the end of the current epoch, after its
        callbacks, so the parameters and optimizer state are never left half-updated;
        it then raises :class:`KeyboardInterrupt` with the trainer between epochs,
        where :meth:`state_dict` is an exact checkpoint.
        """
        if not _whole(epochs, 0):
            raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
        self.stop = False
        # Divergence is detected and reported as DivergenceError; NumPy's overflow
        # warnings on the way there would only be noise (or errors under -W error).
        quiet = np.errstate(over="ignore", invalid="ignore", divide="ignore")
        with _deferred_sigint() as interrupted, quiet:
            if self._unobserved() and isinstance(self.stepper, EpochRunner):
                epochs = self._fit_in_runs(self.stepper, epochs, interrupted)
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
    ) -> int:
        """:meth:`fit`'s loop with the epochs run by ``runner`` in batches of them: each
        run ends at a log line, and is sized from the last one's pace to take about
        50 ms (so Ctrl-C is still answered at once); the history, the log, divergence
        and the parameters kept for it are what running them one at a time gives.

        A loss that explodes while finite (:meth:`_check_explosion`) is judged epoch by
        epoch, on the parameters of the epochs before it: a run in which it first
        exceeds the bound is taken back and run again up to that epoch. Returns the
        epochs left to :meth:`fit`'s loop, one at a time (none unless the bound was met).
        """
        h, left, size = self.history, epochs, 1
        while left:
            if self._sane is not None:  # resumed while the loss was exploding
                return left
            # A remainder of up to a quarter more joins this run rather than making its own
            # (each run costs tens of microseconds of bookkeeping; the sine's 1000 epochs
            # ran as 1, 956 and 43).
            n = left if left <= size + size // 4 else size
            if self.log_every:
                n = min(n, self.log_every - self.epoch % self.log_every)
            start = time.perf_counter()
            before = (self.stepper.get_parameters(), self.stepper.optimizer_state())
            run = runner.run_epochs(n)
            exploded = self._first_exploded(run.losses)
            if exploded is not None:
                self.stepper.set_parameters(before[0])
                self.stepper.load_optimizer_state(before[1])
                if exploded:  # the same epochs again, bit for bit: all were finite
                    again = runner.run_epochs(exploded)
                    h.loss += again.losses
                    self.epoch += exploded
                    assert again.previous is not None
                    self._previous, self._good = again.previous, again.last
                return left - exploded
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
            # Next, as many epochs as fill 50 ms at this run's pace (which its fixed cost
            # overstates, so the estimate errs short), at least twice as many as now.
            seconds = time.perf_counter() - start
            if seconds < 0.05:
                pace = seconds / max(len(run.losses), 1)
                size = max(2 * size, int(0.05 / pace) if pace > 0 else 2 * size)
        return 0

    def _first_exploded(self, losses: list[float]) -> int | None:
        """The position in ``losses``, the next epochs', of the first above
        :data:`~gradfit.engine.divergence.EXPLOSION` times the first epoch's loss."""
        first = self.history.loss[0] if self.history.loss else losses[0] if losses else 0.0
        bound = EXPLOSION * first
        if not (first > 0 and losses and max(losses) > bound):  # the usual case, in C
            return None
        return next(i for i, loss in enumerate(losses) if loss > bound)

    def state_dict(self) -> dict[str, Any]:
        """Everything an exact resume needs, taken between epochs (copies).

        ``epoch``, ``batch_size``, ``shuffle``; ``parameters`` and ``optimizer``
        (:meth:`Stepper.optimizer_state`), NumPy arrays the same from either backend;
        ``rng``, the shuffling generator's ``bit_generator.state``; ``history``;
        ``callbacks``, ``{"type", "state"}`` of each callback with a ``state_dict()``; and
        ``divergence``, what divergence would go back to
        (:meth:`~gradfit.engine.divergence.DivergenceGuard.divergence_state`; a state
        without it, from an older checkpoint, resumes with it started afresh).
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


def _whole(value: Any, least: int) -> bool:
    """Whether ``value`` is a whole number (not a bool) of at least ``least``."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return integral and value >= least


def _check_batch_size(batch_size: Any) -> None:
    """A ``ValueError`` unless ``batch_size`` is a positive integer or ``None``."""
    if batch_size is not None and not _whole(batch_size, 1):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")


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
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be a gradfit.engine optimizer (SGD or Adam) built over "
            f"net.parameters(), got {optimizer!r}"
        )
    mine = net.parameters()
    if len(optimizer.params) != len(mine) or not all(
        np.may_share_memory(p, q) for p, q in zip(optimizer.params, mine, strict=False)
    ):
        raise ValueError(
            "optimizer was built over other arrays than net's: it would never update net; "
            "build it over net.parameters()"
        )
    _check_batch_size(batch_size)
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
