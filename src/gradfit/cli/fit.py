"""``gradfit fit``: train an MLPRegressor on a CSV or Parquet file and write the model."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import numpy as np

from gradfit.cli.class_outputs import FIGURES
from gradfit.cli.exits import ARGV, EPILOG, CommandError, Exit
from gradfit.cli.figures import frame
from gradfit.cli.fit_data import check_names, feature_columns, read_training_table
from gradfit.cli.fit_estimator import CLI_NAMES, estimator
from gradfit.cli.fit_files import (
    Run,
    checkpoint_file,
    diverged,
    interrupted,
    output_paths,
    write_outputs,
)
from gradfit.cli.fit_options import fit_options
from gradfit.cli.outputs import warnings_as_lines
from gradfit.cli.paths import beside, check_paths
from gradfit.cli.progress import EpochBar
from gradfit.cli.resume import array_digest, check_same_run, file_digest, run_identity
from gradfit.cli.task import decide_streamed
from gradfit.engine.training import Callback
from gradfit.engine.types import Array
from gradfit.errors import DivergenceError
from gradfit.io.datafile import CHUNKED_SUFFIXES


@click.command(epilog=EPILOG)
@fit_options
def fit(
    data: Path,
    targets: tuple[str, ...],
    features: tuple[str, ...],
    out_path: Path,
    checkpoint_path: Path | None,
    checkpoint_every: int | None,
    resume: bool,
    drop_missing: bool,
    plots: bool,
    task: str | None,
    **options: Any,
) -> None:
    """Train a network on DATA (CSV; Parquet or .npy by suffix) and write the model to --out.

    Text columns with few distinct values are one-hot encoded (their values are kept
    in the model, for predict); lines starting with # before the header are skipped;
    a leading unnamed index column, or R's row names in a first column 'rownames', is
    left out.

    Beside the model it writes NAME.history.csv (epoch, loss, val_loss, restored) and, with
    matplotlib, NAME.loss.png and, for one input column, NAME.fit.png. A target of
    labels trains a classifier: the history adds accuracy and val_accuracy, and the
    figures are NAME.training.png (loss and accuracy), NAME.confusion.png and, with two
    or more inputs, NAME.regions.png (the first two; the others at their medians). Ctrl-C stops
    at the end of the current epoch, saves a checkpoint, and exits with 130; the same
    command with --resume continues exactly where it stopped.

    With --distributed, every process that torchrun (or --nproc-per-node N) starts runs
    this same fit on its share of each batch; the first (rank 0) alone prints and writes.
    """
    nproc_per_node = options.pop("nproc_per_node")
    run = Run(data, targets, features, out_path, checkpoint_path, checkpoint_every, resume)
    if nproc_per_node is not None:
        from gradfit.cli.launch import launch, launched, under_torchrun

        if under_torchrun():
            raise CommandError(
                "--nproc-per-node starts its own processes; under torchrun leave it out "
                "(torchrun's --nproc_per_node says how many)",
                Exit.USAGE,
            )
        options["distributed"] = True
        if not launched():
            # Said here, once, before any process starts (which takes seconds), rather
            # than by rank 0 once every rank has met it.
            _check(run, plots, task, options)
            _check_inputs(run)
            context = click.get_current_context()
            context.exit(launch(nproc_per_node, context.meta[ARGV]))
    if not options["distributed"]:
        return _fit(run, drop_missing, plots, task, options)
    from gradfit.cli.ranks import as_rank

    with as_rank() as lead:
        _fit(replace(run, lead=lead), drop_missing, plots, task, options)
    return None


def _fit(run: Run, drop_missing: bool, plots: bool, task: str | None, options: Any) -> None:
    from gradfit.io.arrays import open_rows
    from gradfit.io.checkpoint import Checkpoint, load_checkpoint

    data, targets, out_path = run.data, run.targets, run.out_path
    checkpoint_path = checkpoint_file(run)
    streamed = _streamed(run, options)
    outputs = _check(run, plots, task, options)
    if run.resume:
        _to_resume(run)
    X: Array | None = None
    y: Array | None = None
    categories: dict[str, list[str]] = {}
    if streamed:
        source = open_rows(data, target=targets, features=run.features or None)
        decided = decide_streamed(source, targets, task)
        classify = decided.name == "classification"
        if classify and task is None and run.lead:  # what it decided from the column
            click.echo(decided.describe(targets))
        features = tuple(source.feature_names)
        digest = file_digest(data, source.n_rows)
        fit_data: tuple[Any, ...] = (source,)
    else:
        table = read_training_table(data, targets, run.features, task=task,
                                    drop_missing=drop_missing, say=run.lead)  # fmt: skip
        classify = table.labels is not None
        if classify and run.lead:
            click.echo(table.labels)
        X, y, features, categories = table.X, table.y, table.features, table.categories
        digest = array_digest(X, table.target_codes())
        fit_data = (frame(X, features), y)
    model = estimator(options, classify=classify)
    if classify and plots:
        # A file read in chunks draws the curves alone: the others need the rows in memory.
        drawn = [".training.png"] if streamed else FIGURES.values()
        figures = {what: beside(out_path, end) for what, end in FIGURES.items() if end in drawn}
        check_paths({"data": data}, figures)
    task_done = "classification" if classify else "regression"
    identity = run_identity(model.get_params(), features, targets, digest, task_done)
    state = None
    if run.resume:
        state = load_checkpoint(checkpoint_path)
        check_same_run(checkpoint_path, state["meta"].get("cli"), identity)
        # Whether it fits this run at all is checked before training starts, by fit.
        done = state["epoch"]
        if run.lead and isinstance(done, int) and done >= model.max_iter:
            click.echo(
                f"gradfit: warning: {checkpoint_path} is at epoch {state['epoch']}, not before "
                f"--epochs {model.max_iter}: nothing more is trained",
                err=True,
            )
    # Without --checkpoint-every the callback saves nothing by itself; it keeps the
    # trainer at hand for the save on Ctrl-C. Only rank 0 writes it.
    every = run.checkpoint_every or 2**62
    checkpoint = Checkpoint(checkpoint_path, every, {"cli": identity})
    # A run that overflows ends in a DivergenceError, reported once, not as NumPy warnings.
    with (
        EpochBar(model.max_iter, enabled=None if run.lead else False) as bar,
        warnings_as_lines(CLI_NAMES) if run.lead else _silenced(),
        np.errstate(all="ignore"),
    ):
        try:
            callbacks: list[Callback] = [bar, checkpoint] if run.lead else [bar]
            model.fit(*fit_data, callbacks=callbacks, resume_from=state)
        except DivergenceError as exc:
            if not run.lead:
                raise
            raise diverged(
                model, exc, outputs["diverged model"], out_path, targets, categories
            ) from None
        except KeyboardInterrupt:
            if not run.lead:
                raise
            raise interrupted(checkpoint, checkpoint_path) from None
    if run.lead:
        write_outputs(run, model, X, y, features, categories, plots, outputs, fit_data)


def _streamed(run: Run, options: Any) -> bool:
    """Whether the rows are read in chunks (never whole): several processes share a file."""
    return bool(options["distributed"]) and run.data.suffix.lower() in CHUNKED_SUFFIXES


def _check(run: Run, plots: bool, task: str | None, options: Any) -> dict[str, Path]:
    """Check the options, the paths and the column names before any data is read; the
    files the run may write, by what they hold."""
    estimator(options, classify=task == "classification")
    targets = () if _streamed(run, options) else run.targets
    outputs = output_paths(run.out_path, checkpoint_file(run), targets, plots=plots)
    check_paths({"data": run.data}, outputs)
    check_names(run.targets, run.features)
    return outputs


def _check_inputs(run: Run) -> None:
    """Check that the data file can be read and names the columns asked for, from its
    header (and a CSV's first row) alone; and, to resume, that the checkpoint is one."""
    from gradfit.io.arrays import open_rows
    from gradfit.io.checkpoint import load_checkpoint
    from gradfit.io.tabular import read_chunks

    if run.data.suffix.lower() in CHUNKED_SUFFIXES:
        open_rows(run.data, target=run.targets, features=run.features or None)
    else:
        feature_columns(next(read_chunks(run.data, 1)), run.targets, run.features)
    if run.resume:
        load_checkpoint(_to_resume(run))


def _to_resume(run: Run) -> Path:
    """The checkpoint ``--resume`` continues from; one that does not exist is said before
    the data is read, with what to do (the loader's "no such file" said nothing of it)."""
    path = checkpoint_file(run)
    if not os.path.lexists(path):
        raise CommandError(
            f"--resume: there is no checkpoint {str(path)!r} to continue from (fit writes "
            "one on Ctrl-C, or every --checkpoint-every N epochs); run without --resume to "
            "start afresh, or name the checkpoint with --checkpoint",
            Exit.BAD_MODEL,
        )
    return path


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Warnings unsaid: under torchrun, rank 0 says them for every rank."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
