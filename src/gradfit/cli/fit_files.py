"""What a ``gradfit fit`` run reads and writes: the model, its history and figures
written together or not at all, and what a run that diverges or is interrupted leaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from gradfit.cli.exits import CommandError, Exit
from gradfit.cli.outputs import plot, summary, summary_of_chunks, write_history
from gradfit.cli.paths import beside, fit_figure
from gradfit.engine.types import Array
from gradfit.errors import DivergenceError
from gradfit.io.atomic import atomic_files

if TYPE_CHECKING:
    from gradfit.estimator import MLPClassifier, MLPRegressor
    from gradfit.io.checkpoint import Checkpoint


@dataclass(frozen=True)
class Run:
    """What ``fit`` reads and writes, and whether this process writes (rank 0)."""

    data: Path
    targets: tuple[str, ...]
    features: tuple[str, ...]
    out_path: Path
    checkpoint_path: Path | None
    checkpoint_every: int | None
    resume: bool
    lead: bool = True


def checkpoint_file(run: Run) -> Path:
    """Where the run keeps its checkpoint: ``--checkpoint``, or beside the model."""
    return run.checkpoint_path or beside(run.out_path, ".checkpoint.safetensors")


def write_outputs(
    run: Run,
    model: MLPRegressor | MLPClassifier,
    X: Array | None,
    y: Array | None,
    features: tuple[str, ...],
    categories: dict[str, list[str]],
    plots: bool,
    outputs: dict[str, Path],
    fit_data: tuple[Any, ...],
) -> None:
    """Write the model, its history and figures (together, or not at all); summarise."""
    out_path, targets = run.out_path, run.targets
    with atomic_files() as files:
        written = [
            files.write(out_path, lambda path: _save(model, path, targets, categories)),
            files.write(outputs["history"], lambda path: write_history(model, path)),
        ]
        if plots:
            written += plot(model, X, y, features, targets, out_path, files.write)
    if run.checkpoint_every:
        written.append(outputs["checkpoint"])
    if X is None or y is None:
        click.echo(summary_of_chunks(model, _chunks(fit_data[0]), features, targets))
    else:
        click.echo(summary(model, X, y, features, targets))
    click.echo("wrote " + ", ".join(str(p) for p in written))


def _chunks(source: Any) -> Any:
    """The rows of ``source``, chunk by chunk, as ``(X, Y)`` in float64."""
    bounds = source.bounds
    for c in range(len(bounds) - 1):
        yield source.take(slice(int(bounds[c]), int(bounds[c + 1])), np.float64)


def output_paths(
    out_path: Path, checkpoint_path: Path, targets: tuple[str, ...], *, plots: bool
) -> dict[str, Path]:
    """Every file ``fit`` may write, by what it holds."""
    outputs = {
        "model": out_path,
        "history": beside(out_path, ".history.csv"),
        "checkpoint": checkpoint_path,
        "diverged model": beside(out_path, ".diverged" + out_path.suffix),
    }
    if plots:
        outputs["loss figure"] = beside(out_path, ".loss.png")
        for target in targets:
            outputs[f"figure of {target}"] = fit_figure(out_path, target, targets)
    return outputs


def _save(
    model: MLPRegressor | MLPClassifier,
    path: Path,
    targets: tuple[str, ...],
    categories: dict[str, list[str]] | None = None,
) -> None:
    from gradfit.io.model import save

    save(model, path, target_names=list(targets), categories=categories or None)


def diverged(
    model: MLPRegressor | MLPClassifier,
    exc: DivergenceError,
    path: Path,
    out_path: Path,
    targets: tuple[str, ...],
    categories: dict[str, list[str]],
) -> CommandError:
    message = " ".join(str(exc).split())
    if not hasattr(model, "net_") or not model.loss_curve_:
        return CommandError(f"{message} No model was written.", Exit.DIVERGED)
    replaced = " (replacing the one an earlier run left there)" if path.exists() else ""
    _save(model, path, targets, categories)
    return CommandError(
        f"{message} The last finite model was written to '{path}'{replaced}; "
        f"'{out_path}' is untouched.",
        Exit.DIVERGED,
    )


def interrupted(checkpoint: Checkpoint, path: Path) -> CommandError:
    trainer = checkpoint.trainer
    if trainer is None or not checkpoint.save():
        return CommandError(
            "interrupted before the first epoch ended; nothing was written", Exit.INTERRUPTED
        )
    return CommandError(
        f"interrupted after epoch {trainer.epoch}; the checkpoint is saved in '{path}': "
        "run the same command with --resume to continue",
        Exit.INTERRUPTED,
    )
