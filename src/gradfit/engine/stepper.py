"""The interface between the training loop and a backend: a :class:`Stepper` does one
forward/backward/update on its own arrays; :class:`EngineStepper` is what the NumPy
engine's steppers share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gradfit.engine.batches import Rows
from gradfit.engine.flat import split_flat
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.types import Array

__all__ = ["EngineStepper", "EpochRunner", "EpochsRun", "Rows", "Stepper"]


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
