"""Checkpoints for ``gradfit fit``: what a run is, saving on Ctrl-C, and resuming.

A checkpoint written by the CLI carries, beside the trainer's state, the run's
identity: the estimator's parameters (all but the number of epochs, which a resumed
run may raise), the feature and target columns, and a digest of the data. ``--resume``
refuses a checkpoint from another run, naming what differs, because continuing it on
other data or settings would silently give a model that neither run describes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.cli.exits import CommandError, Exit
from gradfit.cli.fit_estimator import CLI_NAMES
from gradfit.engine.types import Array

RESUMABLE = frozenset({"max_iter", "distributed"})
"""Parameters a resumed run may change: the trainer's state does not depend on how many
processes trained it, so a run may go on with or without ``--distributed``."""


def array_digest(X: Array, Y: Array) -> str:
    """``N rows, sha256 …`` of the values of ``X`` and ``Y`` (as float64)."""
    digest = hashlib.sha256()
    for A in (X, Y):
        digest.update(np.ascontiguousarray(A, dtype=np.float64).tobytes())
    return f"{X.shape[0]} rows, sha256 {digest.hexdigest()}"


def file_digest(path: Path, n_rows: int) -> str:
    """``N rows, sha256 …`` of the bytes of the file at ``path``, read block by block."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(2**20):
            digest.update(block)
    return f"{n_rows} rows, sha256 {digest.hexdigest()}"


def run_identity(
    params: dict[str, Any],
    features: tuple[str, ...],
    targets: tuple[str, ...],
    data: str,
    task: str,
) -> dict[str, Any]:
    """What makes a run this run, as JSON-able data for the checkpoint's ``extra_meta``;
    ``data`` is the data's :func:`array_digest` or :func:`file_digest`, ``task``
    ``"classification"`` or ``"regression"``."""
    kept = {k: v for k, v in params.items() if k not in RESUMABLE}
    # Through JSON, so that tuples compare equal to the lists a checkpoint gives back.
    return json.loads(
        json.dumps(
            {
                "task": task,
                "params": kept,
                "features": list(features),
                "targets": list(targets),
                "data": data,
            },
            default=str,
        )
    )


def check_same_run(path: Path, saved: Any, current: dict[str, Any]) -> None:
    """Raise a usage error naming every difference between ``saved`` and ``current``."""
    if not isinstance(saved, dict):
        raise CommandError(
            f"{path} was not written by `gradfit fit`; it cannot be resumed from here",
            Exit.BAD_MODEL,
        )
    differences = []
    # Checkpoints written before the task was kept lack it: their params tell it apart.
    other_task = "task" in saved and saved["task"] != current["task"]
    if other_task:
        differences.append(f"--task: {saved['task']!r} then, {current['task']!r} now")
    for key in ("features", "targets", "data"):
        if saved.get(key) != current[key]:
            differences.append(f"{key}: {saved.get(key)} then, {current[key]} now")
    # A classifier's parameters differ from a regressor's by their defaults alone: not
    # options the user changed, so not named beside the task.
    then, now = ({}, {}) if other_task else (saved.get("params") or {}, current["params"])
    for name in sorted(set(then) | set(now)):
        if then.get(name) != now.get(name):
            option = CLI_NAMES.get(name, name)  # --ensemble, not n_members
            differences.append(f"{option}: {then.get(name)!r} then, {now.get(name)!r} now")
    if differences:
        raise CommandError(
            f"{path} belongs to another run ({'; '.join(differences)}); "
            "rerun with the same data and options, or start afresh without --resume",
            Exit.USAGE,
        )
