"""What training records, epoch by epoch, and the log line that reports it.

``history.loss[i]`` is the training loss of epoch ``i`` (0-based): with full batches
it is the loss at the parameters *before* update ``i``; with minibatches, the losses
of the epoch's batches combined as the loss reduces (:meth:`Loss.epoch_loss
<gradfit.engine.Loss.epoch_loss>`). When parameters are recorded,
``history.parameters`` holds ``epochs + 1`` snapshots: the initial parameters, then
those after every epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gradfit.engine.types import Array


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
        The loss's name, e.g. ``"mse"`` (mean of squared errors) or ``"sse"`` (sum of
        squared errors); :data:`LOSS_LABELS` says it in words.
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


def log_line(epoch: int, loss: float, loss_name: str) -> str:
    """The walk-through's log line, ``Epoch: 10  Loss: 94.4 (sum of squared errors)``."""
    return f"Epoch: {epoch:>4}  Loss: {loss:.6g} ({LOSS_LABELS.get(loss_name, loss_name)})"
