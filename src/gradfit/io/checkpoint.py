"""Checkpoints: a trainer's whole state in one ``.safetensors`` file, for an exact resume.

A checkpoint holds what :meth:`Trainer.state_dict <gradfit.engine.Trainer.state_dict>`
returns — parameters, optimizer state (step count and buffers), epoch, history, the
shuffling generator's state, and the state of callbacks such as early stopping —
plus the caller's own ``extra_meta``. Arrays are tensors named by where they sit
(``trainer.parameters.0``, ``trainer.optimizer.state.0.m``, …); everything else is
JSON in the header.

Writing is atomic (temporary file in the same folder, flush, fsync, rename, fsync
of the folder), so a crash mid-write leaves the previous checkpoint whole. Reading
checks the file as :func:`gradfit.load` does, then :meth:`Trainer.load_state_dict`
checks that the state fits the run before changing anything.

Typical use::

    trainer = Trainer(stepper, rng=rng, callbacks=[Checkpoint("run.ckpt", every=10)])
    trainer.fit(100)
    ...
    fresh = Trainer(new_stepper, rng=np.random.default_rng(), callbacks=[...])
    fresh.load_state_dict(load_checkpoint("run.ckpt"))
    fresh.fit(100 - fresh.epoch)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.state import KEYS, stateful
from gradfit.engine.types import Array
from gradfit.errors import ModelFileError
from gradfit.io import safetensors_file
from gradfit.io.atomic import check_destination

if TYPE_CHECKING:
    from gradfit.engine.training import Trainer

FORMAT = "gradfit.checkpoint"
VERSION = 1
_TENSOR = "__tensor__"


def save_checkpoint(
    path: str | os.PathLike[str], trainer: Trainer, extra_meta: dict[str, Any] | None = None
) -> None:
    """Write ``trainer.state_dict()`` and ``extra_meta`` to ``path``, atomically.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file; an old one there is replaced only once the new one is
        complete on disk.
    trainer : Trainer
        Between epochs (as callbacks and ``KeyboardInterrupt`` from ``fit`` see it).
    extra_meta : dict, optional
        The caller's own data (numbers, strings, lists, dicts, arrays), returned by
        :func:`load_checkpoint` as ``"meta"``; e.g. the estimator's parameters.

    Raises
    ------
    ValueError
        When a float array holds NaN or inf (a diverged run is not resumable).
    """
    tree, tensors = pack({"trainer": trainer.state_dict(), "meta": extra_meta or {}})
    doc = {"format": FORMAT, "version": VERSION, "state": tree}
    safetensors_file.write(path, doc, tensors, what="checkpoint")


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The trainer state saved at ``path``, for ``Trainer.load_state_dict``.

    Returns
    -------
    dict
        What ``trainer.state_dict()`` returned when it was saved, plus ``"meta"``: the
        ``extra_meta`` given to :func:`save_checkpoint` (``{}`` when none). Pass it to
        ``trainer.load_state_dict`` or ``MLPRegressor.fit(..., resume_from=...)``.

    Raises
    ------
    ModelFileError
        When the file is missing, corrupt, not a gradfit checkpoint or of a newer
        format version; whether it fits a given run is checked by ``load_state_dict``.
    """
    doc, tensors = safetensors_file.read(path, what="checkpoint")

    def fail(problem: str) -> ModelFileError:
        return safetensors_file.file_error(path, "checkpoint", problem)

    if doc.get("format") == "gradfit.model":
        raise fail("it is a model file, not a checkpoint (gradfit.load and predict read it)")
    if doc.get("format") != FORMAT:
        raise fail(f"its format is {doc.get('format')!r}, not {FORMAT!r}")
    if doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
        raise fail(f"format version {doc.get('version')!r} is not one this gradfit reads")
    tree = unpack(doc.get("state"), tensors, fail)
    if not isinstance(tree, dict) or set(tree) != {"trainer", "meta"}:
        raise fail("its state must hold exactly 'trainer' and 'meta'")
    state, meta = tree["trainer"], tree["meta"]
    if not isinstance(state, dict) or (missing := [k for k in KEYS if k not in state]):
        raise fail(f"the trainer state lacks {missing or 'everything'}")
    if not isinstance(meta, dict):
        raise fail("its meta is not a JSON object")
    return state | {"meta": meta}


class Checkpoint:
    """A :class:`~gradfit.engine.Trainer` callback saving a checkpoint every ``every`` epochs.

    Put it after every callback that has state (early stopping), so that the
    checkpoint holds their state after the epoch, as the parameters are.

    Parameters
    ----------
    path : str or path-like
        Where to write (atomically, replacing the previous checkpoint); a path no file
        can be written to (a folder, a missing folder, …) raises
        :class:`~gradfit.errors.OutputPathError` here.
    every : int
        Save after epochs ``every``, ``2 * every``, … (counted from the run's start).
    extra_meta : dict, optional
        Passed to :func:`save_checkpoint`.

    Examples
    --------
    When ``fit`` raises ``KeyboardInterrupt`` (Ctrl-C, deferred to the end of an
    epoch), save the state as it is then and exit::

        checkpoint = Checkpoint("run.ckpt", every=50)
        try:
            model.fit(X, y, callbacks=[checkpoint])
        except KeyboardInterrupt:
            checkpoint.save()
            sys.exit(130)
    """

    def __init__(
        self, path: str | os.PathLike[str], every: int = 1, extra_meta: dict[str, Any] | None = None
    ) -> None:
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(f"every must be a positive integer, got {every!r}")
        # Now, not at the first save, which may come after hours of training.
        check_destination(path, what="checkpoint")
        self.path, self.every, self.extra_meta = path, every, extra_meta
        self.trainer: Trainer | None = None

    def __call__(self, trainer: Trainer) -> None:
        if self.trainer is not trainer:
            later = stateful(trainer)[-1:]
            if later and trainer.callbacks.index(later[0]) > trainer.callbacks.index(self):
                raise ValueError(
                    f"Checkpoint must come after {type(later[0]).__name__} in the callbacks, "
                    "so that it saves that callback's state after the epoch"
                )
        self.trainer = trainer
        if trainer.epoch % self.every == 0:
            self.save()

    def save(self) -> bool:
        """Save the last trainer this callback saw, now; ``False`` if it saw none."""
        if self.trainer is None:
            return False
        save_checkpoint(self.path, self.trainer, self.extra_meta)
        return True

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r}, every={self.every})"


def pack(tree: Any) -> tuple[Any, dict[str, Array]]:
    """``tree`` as JSON-able data with its arrays replaced by ``{"__tensor__": name}``.

    Returns the JSON tree and ``{name: array}``; names are the arrays' paths in
    ``tree``. 0-d arrays and NumPy scalars become Python numbers, tuples lists.
    """
    tensors: dict[str, Array] = {}

    def walk(x: Any, where: str) -> Any:
        if isinstance(x, np.ndarray) and x.ndim > 0:
            name = where if where not in tensors else f"{where}#{len(tensors)}"
            tensors[name] = x
            return {_TENSOR: name}
        if isinstance(x, np.ndarray | np.generic):
            return walk(x.item(), where)
        if x is None or isinstance(x, bool | int | float | str):
            return x
        if isinstance(x, list | tuple):
            return [walk(v, f"{where}.{i}") for i, v in enumerate(x)]
        if isinstance(x, dict) and all(isinstance(k, str) for k in x):
            if _TENSOR in x:
                raise TypeError(f"{where}: the key {_TENSOR} is reserved")
            return {k: walk(v, f"{where}.{k}".lstrip(".")) for k, v in x.items()}
        raise TypeError(f"{where or 'state'}: a {type(x).__name__} cannot go in a checkpoint")

    return walk(tree, ""), tensors


def unpack(tree: Any, tensors: dict[str, Array], fail: Any) -> Any:
    """Undo :func:`pack`; every tensor must be referenced exactly once.

    ``fail(problem)`` builds the exception raised for a malformed ``tree``.
    """
    used: set[str] = set()

    def walk(x: Any) -> Any:
        if isinstance(x, dict) and _TENSOR in x:
            name = x[_TENSOR]
            if len(x) != 1 or not isinstance(name, str) or name not in tensors or name in used:
                raise fail(f"a tensor reference {str(x)[:60]} names no tensor, or one used twice")
            used.add(name)
            return tensors[name]
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        return x

    try:
        result = walk(tree)
    except RecursionError:
        raise fail("its state is nested too deeply") from None
    if unused := sorted(set(tensors) - used):
        raise fail(f"tensors {', '.join(unused)} belong to nothing in its state")
    return result
