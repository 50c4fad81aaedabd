"""The progress bar: one step per epoch with the latest losses, only on a terminal."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gradfit.cli.progress import EpochBar
from gradfit.engine.history import History


def trainer_after(loss: list[float], val_loss: list[float]) -> object:
    return SimpleNamespace(history=History(loss=loss, val_loss=val_loss))


def test_the_bar_counts_epochs_and_shows_the_losses(capsys: pytest.CaptureFixture[str]) -> None:
    with EpochBar(4, enabled=True) as bar:
        bar(trainer_after([0.5], [0.75]))  # type: ignore[arg-type]
        bar(trainer_after([0.5, 0.25], [0.75, 0.125]))  # type: ignore[arg-type]
        assert bar.bar.n == 2
    err = capsys.readouterr().err
    assert "2/4" in err
    assert "loss=0.25" in err and "val_loss=0.125" in err


def test_no_bar_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with EpochBar(3) as bar:
        bar(trainer_after([1.0], []))  # type: ignore[arg-type]
    assert capsys.readouterr().err == ""
