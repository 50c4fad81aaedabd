"""Accuracy per epoch, on the training rows and the validation rows: a trainer callback."""

from __future__ import annotations

from typing import Any

from gradfit.engine.network import MLP
from gradfit.engine.training import Trainer
from gradfit.engine.types import Array
from gradfit.estimator._labels import Labels, accuracy


class AccuracyCurve:
    """After every epoch, the accuracy of the trained model on ``(X, Y)`` and on the
    validation data, at the parameters that epoch ended with.

    Parameters
    ----------
    net : MLP or Ensemble
        A network of the trained one's shape, used to predict (its values are
        overwritten); an ensemble's members vote with their mean probability.
    X, Y : (n_samples, n_in), (n_samples, n_outputs) arrays
        The training rows, as the network sees them (scaled) and their targets.
    validation : (X_val, Y_val) or None
    labels : Labels
    accuracy, val_accuracy : list of float
        The curves so far (a warm start continues them).
    """

    def __init__(
        self,
        net: MLP,
        X: Array,
        Y: Array,
        validation: tuple[Array, Array] | None,
        labels: Labels,
        *,
        accuracy: list[float],
        val_accuracy: list[float],
    ) -> None:
        self.net, self.X, self.Y, self.validation, self.labels = net, X, Y, validation, labels
        self.accuracy, self.val_accuracy = accuracy, val_accuracy

    def __call__(self, trainer: Trainer) -> None:
        self.net.set_parameters(trainer.stepper.get_parameters())
        self.accuracy.append(self._accuracy(self.X, self.Y))
        if self.validation is not None:
            self.val_accuracy.append(self._accuracy(*self.validation))

    def _accuracy(self, X: Array, Y: Array) -> float:
        return accuracy(self.labels.logits(self.net.forward(X)), Y, self.labels)

    def state_dict(self) -> dict[str, Any]:
        """The curves (copies), for checkpoints."""
        return {"accuracy": list(self.accuracy), "val_accuracy": list(self.val_accuracy)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.accuracy[:] = [float(v) for v in state["accuracy"]]
        self.val_accuracy[:] = [float(v) for v in state["val_accuracy"]]
