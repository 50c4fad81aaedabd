"""Stopping when a loss stops improving: a :class:`~gradfit.engine.Trainer` callback."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from gradfit.engine.training import Trainer
from gradfit.engine.types import Array


class EarlyStopping:
    """Stop training when a loss has not improved by ``tol`` for more than ``patience`` epochs.

    scikit-learn's rule: an epoch whose loss is not below ``best - tol`` counts as
    no improvement; training stops when ``patience + 1`` such epochs come in a row.
    Watching the validation loss, it keeps the parameters of the best epoch;
    :meth:`restore_best` puts them back.

    Parameters
    ----------
    patience : int
        scikit-learn's ``n_iter_no_change``.
    tol : float
        The least decrease of the loss that counts as an improvement.
    monitor : {"val_loss", "loss"}
        Which of the trainer's ``history`` curves to watch.

    Attributes
    ----------
    best : float
        The lowest loss seen (``inf`` before the first epoch).
    best_epoch : int
        How many epochs had run when ``best`` was seen (``0`` before).
    bad_epochs : int
        Epochs in a row without improvement.
    best_parameters : list of arrays or None
        ``[W1, b1, …]`` after the best epoch, when watching ``val_loss``.
    """

    def __init__(self, *, patience: int, tol: float, monitor: str = "val_loss") -> None:
        if monitor not in ("val_loss", "loss"):
            raise ValueError(f"monitor must be 'val_loss' or 'loss', got {monitor!r}")
        self.patience, self.tol, self.monitor = patience, tol, monitor
        self.best = math.inf
        self.best_epoch = 0
        self.bad_epochs = 0
        self.best_parameters: list[Array] | None = None
        self.stopped = False

    def __call__(self, trainer: Trainer) -> None:
        curve = getattr(trainer.history, self.monitor)
        current = curve[-1]
        if current > self.best - self.tol:
            self.bad_epochs += 1
        else:
            self.bad_epochs = 0
        if current < self.best:
            self.best, self.best_epoch = current, trainer.epoch
            if self.monitor == "val_loss":
                # The validation loss is measured after the epoch's updates, so the
                # parameters now are the ones it belongs to.
                self.best_parameters = trainer.stepper.get_parameters()
        if self.bad_epochs > self.patience:
            self.stopped = trainer.stop = True

    def still_improving(self) -> bool:
        """Whether training ended without stopping while the last epoch still improved."""
        return not self.stopped and self.bad_epochs == 0

    def warn_if_still_improving(self, estimator: str, max_iter: int) -> None:
        """Warn (:class:`~sklearn.exceptions.ConvergenceWarning`) that ``estimator`` reached
        ``max_iter`` epochs while its loss was still falling by more than ``tol``; to the
        caller of the estimator's ``fit``."""
        if not self.still_improving():
            return
        watched = "validation loss" if self.monitor == "val_loss" else "loss"
        warnings.warn(
            f"{estimator} reached max_iter={max_iter} epochs while the {watched} was still "
            f"falling by more than tol={self.tol}; raise max_iter or learning_rate_init",
            ConvergenceWarning,
            stacklevel=5,
        )

    def restore_best(self, trainer: Trainer) -> None:
        """Put the best epoch's parameters back into the trainer's model (if kept)."""
        if self.best_parameters is not None:
            trainer.stepper.set_parameters(self.best_parameters)

    def state_dict(self) -> dict[str, Any]:
        """The counters and best parameters (copies), for checkpoints."""
        best = self.best_parameters
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "stopped": self.stopped,
            "best_parameters": None if best is None else [p.copy() for p in best],
        }

    def check_state(self, state: Any, parameters: list[Array]) -> None:
        """Raise ``ValueError`` unless ``state`` is a :meth:`state_dict` for a model with
        ``parameters``; called on a checkpoint before anything is restored."""
        if not isinstance(state, dict) or set(state) != set(self.state_dict()):
            raise ValueError(f"the state must hold exactly {sorted(self.state_dict())}")
        best = state["best"]
        if isinstance(best, bool) or not isinstance(best, int | float) or math.isnan(best):
            raise ValueError(f"best {best!r} is not a number")
        for key in ("best_epoch", "bad_epochs"):
            value = state[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key} {value!r} is not a non-negative integer")
        if not isinstance(state["stopped"], bool):
            raise ValueError(f"stopped {state['stopped']!r} is not true or false")
        saved = state["best_parameters"]
        if saved is None:
            return
        if not isinstance(saved, list) or len(saved) != len(parameters):
            raise ValueError(f"best_parameters does not hold {len(parameters)} arrays")
        for i, (A, B) in enumerate(zip(saved, parameters, strict=True)):
            if not isinstance(A, np.ndarray) or A.shape != B.shape or A.dtype != B.dtype:
                found = f"{A.dtype} {A.shape}" if isinstance(A, np.ndarray) else type(A).__name__
                raise ValueError(
                    f"best_parameters[{i}] is {found}, the model's is {B.dtype} {B.shape}"
                )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.bad_epochs = int(state["bad_epochs"])
        self.stopped = bool(state["stopped"])
        best = state["best_parameters"]
        self.best_parameters = None if best is None else [p.copy() for p in best]

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, tol={self.tol}, monitor={self.monitor!r})"


def stop_reason(stopping: EarlyStopping | None, epochs: int, max_iter: int) -> str:
    """Why a fit ended: ``"early_stopping"`` (the validation loss stopped improving),
    ``"no_improvement"`` (the training loss did), ``"max_iter"``, or ``"interrupted"``
    (an exception or a callback's ``trainer.stop``)."""
    if stopping is not None and stopping.stopped:
        return "early_stopping" if stopping.monitor == "val_loss" else "no_improvement"
    return "max_iter" if epochs >= max_iter else "interrupted"
