"""What the training loop does when training diverges: it goes back to the last
parameters known to be sane, trims the history to them, and raises
:class:`~gradfit.errors.DivergenceError`.

Two kinds of divergence: a loss or a parameter that is NaN or infinite, and a loss that
stays finite but explodes (above :data:`EXPLOSION` times the first epoch's for
:data:`EXPLOSION_EPOCHS` epochs in a row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DivergenceError

if TYPE_CHECKING:
    from gradfit.engine.history import History
    from gradfit.engine.stepper import Stepper

EXPLOSION = 1e6
"""A loss this many times the first epoch's counts as exploded, though finite."""

EXPLOSION_EPOCHS = 3
"""Epochs in a row of exploded loss that count as divergence."""


class DivergenceGuard:
    """The part of :class:`~gradfit.engine.Trainer` that keeps the parameters of the last
    two epochs, and goes back to them on divergence.

    ``_good`` holds the parameters after the last epoch, ``_previous`` those after the
    one before (the loss of an epoch is measured at the parameters it starts from, so a
    non-finite loss condemns the epoch before it too).
    """

    stepper: Stepper
    history: History
    epoch: int

    def keep_parameters(self) -> None:
        """Take the current parameters as those of the last epoch and the one before,
        which divergence goes back to."""
        self._good = self.stepper.get_parameters()
        self._previous = self.stepper.get_parameters()
        # While the loss is exploding: the epoch before it began, and its parameters.
        self._sane: tuple[int, list[Array]] | None = None

    def divergence_state(self) -> dict[str, Any]:
        """What divergence would go back to, for checkpoints: the parameters after the
        epoch before last (``previous``) and, while the loss is exploding, the epoch
        before it began and its parameters (``sane``), else ``None``."""
        sane = self._sane
        return {
            "previous": [p.copy() for p in self._previous],
            "sane": None if sane is None else {"epoch": sane[0], "parameters": sane[1]},
        }

    def load_divergence_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`divergence_state` returned (checked by
        :func:`gradfit.engine.state.check_resumable`)."""
        # Into the buffers keep_parameters laid out: get_parameters refills them in place.
        for mine, saved in zip(self._previous, state["previous"], strict=True):
            np.copyto(mine, saved)
        sane = state["sane"]
        self._sane = None if sane is None else (int(sane["epoch"]), list(sane["parameters"]))

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
        self._go_back_to(epoch)
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
            self._go_back_to(self.epoch - 1)
            self._good = self._previous
        self.stepper.set_parameters(self._good)
        self.keep_parameters()
        raise DivergenceError(
            f"training diverged in epoch {self.epoch + 1}: {what} became NaN or infinite. "
            "The parameters of the last finite epoch were kept. Try a lower learning rate, "
            "or standardise the inputs and targets.",
            epoch=self.epoch,
        )

    def _go_back_to(self, epoch: int) -> None:
        """Forget the epochs from ``epoch`` (0-based) on in the history."""
        h = self.history
        del h.loss[epoch:], h.val_loss[epoch:]
        if h.parameters is not None:
            del h.parameters[epoch + 1 :]
        self.epoch = epoch
