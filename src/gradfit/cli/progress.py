"""A tqdm progress bar over epochs, on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from gradfit.engine.training import Trainer


class EpochBar:
    """A training callback that advances a progress bar by one epoch per call.

    Parameters
    ----------
    total : int
        The number of epochs planned (early stopping may end sooner).
    enabled : bool, optional
        Draw the bar; defaults to whether stderr is a terminal, so logs and
        pipes never fill with carriage returns.
    """

    def __init__(self, total: int, *, enabled: bool | None = None) -> None:
        from tqdm import tqdm

        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar: Any = tqdm(
            total=total, unit="epoch", file=sys.stderr, disable=not enabled, dynamic_ncols=True
        )

    def __call__(self, trainer: Trainer) -> None:
        history = trainer.history
        postfix = {"loss": f"{history.loss[-1]:.4g}"}
        if history.val_loss:
            postfix["val_loss"] = f"{history.val_loss[-1]:.4g}"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(1)

    def __enter__(self) -> EpochBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.bar.close()
