"""A :class:`~gradfit.engine.Trainer`'s state between epochs, and checking it fits before a resume.

The state is plain data (dicts, lists, numbers, strings and NumPy arrays), the same
from either backend, so :mod:`gradfit.io.checkpoint` can write it and a resume on a
fresh trainer continues bit for bit where the saved one stopped.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import ModelFileError

if TYPE_CHECKING:
    from gradfit.engine.history import History
    from gradfit.engine.training import Trainer

KEYS = ("epoch", "batch_size", "shuffle", "parameters", "optimizer", "rng", "history", "callbacks")


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """See :meth:`Trainer.state_dict <gradfit.engine.Trainer.state_dict>`."""
    h = trainer.history
    return {
        "epoch": trainer.epoch,
        "batch_size": trainer.batch_size,
        "shuffle": trainer.shuffle,
        "parameters": trainer.stepper.get_parameters(),
        "optimizer": trainer.stepper.optimizer_state(),
        "rng": trainer.rng.bit_generator.state,
        "history": {
            "loss": list(h.loss),
            "val_loss": list(h.val_loss),
            "parameters": None if h.parameters is None else [_copies(p) for p in h.parameters],
            "loss_name": h.loss_name,
        },
        "callbacks": [
            {"type": type(cb).__name__, "state": cb.state_dict()} for cb in stateful(trainer)
        ],
        "divergence": trainer.divergence_state(),
    }


def load_trainer_state(trainer: Trainer, state: dict[str, Any]) -> None:
    """See :meth:`Trainer.load_state_dict <gradfit.engine.Trainer.load_state_dict>`."""
    from gradfit.engine.history import History

    check_resumable(trainer, state)
    h = state["history"]
    history = History(
        loss=[float(v) for v in h["loss"]],
        val_loss=[float(v) for v in h["val_loss"]],
        parameters=None if h["parameters"] is None else [_copies(p) for p in h["parameters"]],
        loss_name=h["loss_name"],
    )
    trainer.stepper.set_parameters(state["parameters"])
    trainer.stepper.load_optimizer_state(state["optimizer"])
    trainer.rng.bit_generator.state = state["rng"]
    trainer.history, trainer.epoch = history, int(state["epoch"])
    trainer.keep_parameters()
    if "divergence" in state:
        trainer.load_divergence_state(state["divergence"])
    for cb, saved in zip(stateful(trainer), state["callbacks"], strict=True):
        cb.load_state_dict(saved["state"])


def stateful(trainer: Trainer) -> list[Any]:
    """The trainer's callbacks that have ``state_dict`` and ``load_state_dict``."""
    return [
        cb
        for cb in trainer.callbacks
        if hasattr(cb, "state_dict") and hasattr(cb, "load_state_dict")
    ]


def check_resumable(trainer: Trainer, state: Any) -> None:
    """Raise :class:`ModelFileError` naming the first way ``state`` does not fit ``trainer``."""

    def fail(problem: str) -> ModelFileError:
        # Cut short: a hostile file's values could make the message huge.
        return ModelFileError(f"cannot resume from this checkpoint: {problem[:300]}")

    if isinstance(state, str | os.PathLike):
        raise fail(
            f"{os.fspath(state)!r} is the path of one, not its state: pass what "
            f"load_checkpoint({os.fspath(state)!r}) returns"
        )
    if not isinstance(state, dict) or (missing := [k for k in KEYS if k not in state]):
        raise fail(f"it lacks {', '.join(missing) if isinstance(state, dict) else 'everything'}")
    epoch = state["epoch"]
    if not _count(epoch):
        raise fail(f"epoch {epoch!r} is not a non-negative integer")
    # Type checks first: a value from a file may be an array, for which == is elementwise.
    batch_size, shuffle = state["batch_size"], state["shuffle"]
    if not _count(batch_size) or batch_size != trainer.batch_size:
        raise fail(
            f"it was written with batch_size={batch_size!r}, this run has "
            f"{trainer.batch_size}; resume with the same batch size"
        )
    if not isinstance(shuffle, bool) or (shuffle != trainer.shuffle and not trainer.full_batch):
        raise fail(f"it was written with shuffle={shuffle!r}, this run has {trainer.shuffle}")
    own = trainer.stepper.get_parameters()
    _check_arrays(state["parameters"], own, "the parameters", fail)
    _check_optimizer(state["optimizer"], trainer.stepper.optimizer_state(), fail)
    _check_rng(state["rng"], trainer.rng, fail)
    _check_history(state["history"], trainer.history, own, epoch, fail)
    if "divergence" in state:
        _check_divergence(state["divergence"], own, epoch, fail)
    saved, mine = state["callbacks"], stateful(trainer)
    if not (isinstance(saved, list) and all(isinstance(s, dict) for s in saved)):
        raise fail("its callbacks' state is not a list of {type, state}")
    kinds, names = [s.get("type") for s in saved], [type(cb).__name__ for cb in mine]
    if not all(isinstance(k, str) for k in kinds) or kinds != names:
        raise fail(f"it holds the state of callbacks {kinds}, this run has {names}")
    for cb, entry in zip(mine, saved, strict=True):
        try:
            # A callback that can check its state against the model does so first.
            if hasattr(cb, "check_state"):
                cb.check_state(entry.get("state"), own)
            # On a copy: the callback itself is loaded only once everything fits.
            copy.deepcopy(cb).load_state_dict(entry.get("state"))
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise fail(f"the state of {type(cb).__name__} is malformed ({exc!r})") from None


def _copies(arrays: Sequence[Array]) -> list[Array]:
    return [np.array(A, copy=True) for A in arrays]


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_arrays(saved: Any, own: list[Array], what: str, fail: Any) -> None:
    if not isinstance(saved, list | tuple) or len(saved) != len(own):
        n = len(saved) if isinstance(saved, list | tuple) else saved
        raise fail(f"{what}: expected {len(own)} arrays, found {n!r}")
    for i, (A, B) in enumerate(zip(saved, own, strict=True)):
        if not isinstance(A, np.ndarray) or A.shape != B.shape or A.dtype != B.dtype:
            found = f"{A.dtype} {A.shape}" if isinstance(A, np.ndarray) else type(A).__name__
            raise fail(f"{what}, array {i}: expected {B.dtype} {B.shape}, found {found}")


def _check_divergence(saved: Any, own: list[Array], epoch: int, fail: Any) -> None:
    if not isinstance(saved, dict) or set(saved) != {"previous", "sane"}:
        raise fail("the divergence state does not hold exactly previous and sane")
    _check_arrays(saved["previous"], own, "the divergence state's previous parameters", fail)
    sane = saved["sane"]
    if sane is None:
        return
    if not isinstance(sane, dict) or set(sane) != {"epoch", "parameters"}:
        raise fail("the divergence state's sane entry does not hold exactly epoch and parameters")
    if not _count(sane["epoch"]) or sane["epoch"] > epoch:
        raise fail(f"the divergence state's epoch {sane['epoch']!r} is not one of 0…{epoch}")
    _check_arrays(sane["parameters"], own, "the divergence state's sane parameters", fail)


def _check_optimizer(saved: Any, own: dict[str, Any], fail: Any) -> None:
    if not isinstance(saved, dict) or not _count(saved.get("t")) or saved["t"] > 2**53:
        raise fail("the optimizer state has no step count t (an integer up to 2**53)")
    entries = saved.get("state")
    if not isinstance(entries, list) or len(entries) != len(own["state"]):
        raise fail(f"the optimizer state does not have {len(own['state'])} entries")
    for i, (entry, mine) in enumerate(zip(entries, own["state"], strict=True)):
        if not isinstance(entry, dict) or set(entry) != set(mine):
            found = sorted(entry) if isinstance(entry, dict) else entry
            raise fail(
                f"the optimizer state of parameter {i} holds {found}, this run's optimizer "
                f"keeps {sorted(mine)}; resume with the same optimizer and momentum"
            )
        _check_arrays(list(entry.values()), list(mine.values()), "the optimizer state", fail)


def _check_rng(saved: Any, rng: np.random.Generator, fail: Any) -> None:
    kind = type(rng.bit_generator)
    found = saved.get("bit_generator") if isinstance(saved, dict) else saved
    if not isinstance(found, str) or found != kind.__name__:
        raise fail(f"the random generator state is for {found!r}, this run uses {kind.__name__}")
    try:
        kind().state = saved  # on a scratch generator: the trainer's is set only once all fits
    except (AttributeError, IndexError, KeyError, OverflowError, TypeError, ValueError) as exc:
        raise fail(f"the random generator state is malformed ({exc})") from None


def _check_history(saved: Any, own: History, params: list[Array], epoch: int, fail: Any) -> None:
    if not isinstance(saved, dict) or {"loss", "val_loss", "parameters", "loss_name"} - set(saved):
        raise fail("the history lacks loss, val_loss, parameters or loss_name")
    if not isinstance(saved["loss_name"], str) or saved["loss_name"] != own.loss_name:
        raise fail(f"its loss is {saved['loss_name']!r}, this run's is {own.loss_name!r}")
    for key in ("loss", "val_loss"):
        curve = saved[key]
        if not isinstance(curve, list) or not all(
            isinstance(v, float | np.floating) for v in curve
        ):
            raise fail(f"history.{key} is not a list of floats")
    if len(saved["loss"]) != epoch or len(saved["val_loss"]) not in (0, epoch):
        raise fail(f"the history does not hold {epoch} epochs, as its epoch count says")
    snapshots = saved["parameters"]
    if (snapshots is None) != (own.parameters is None):
        recorded = "records" if snapshots is not None else "does not record"
        raise fail(f"it {recorded} the parameters each epoch and this run is the opposite")
    if snapshots is not None:
        if not isinstance(snapshots, list) or len(snapshots) != epoch + 1:
            raise fail(f"history.parameters does not hold {epoch + 1} snapshots")
        for snapshot in snapshots:
            _check_arrays(snapshot, params, "history.parameters", fail)
