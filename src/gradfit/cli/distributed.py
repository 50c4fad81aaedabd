"""``gradfit fit --distributed``: the torch backend data-parallel over torchrun's processes.

Every process runs the same command; :func:`gradfit.torch_backend.distributed.fit`
shares the rows out, and rank 0 alone shows the progress bar, writes the model, its
history and the checkpoint, and prints the summary. Options mean what they mean for
``fit``, with the estimator's defaults; the data is used as given (not standardized).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from gradfit.cli.exits import CommandError, Exit, as_command_error
from gradfit.cli.paths import beside
from gradfit.cli.progress import EpochBar
from gradfit.defaults import AUTO_BATCH, DEFAULTS

# fit's options that need the whole data set in memory, or the estimator.
UNSUPPORTED = (
    "alpha",
    "early_stopping",
    "validation_fraction",
    "tol",
    "n_iter_no_change",
    "precision",
)


def fit_distributed(
    data: Path,
    targets: tuple[str, ...],
    features: tuple[str, ...],
    out_path: Path,
    checkpoint_path: Path,
    options: dict[str, Any],
) -> None:
    """Train on ``data`` under torchrun; ``options`` are ``fit``'s, see the module docstring.

    An error is said once, by rank 0; every rank exits with its code.
    """
    lead = int(os.environ.get("RANK", "0")) == 0
    try:
        _fit(data, targets, features, out_path, checkpoint_path, options, lead=lead)
    except (Exception, KeyboardInterrupt) as exc:
        error = as_command_error(exc)
        if lead or error is None:
            raise
        raise SystemExit(error.exit_code) from None


def _fit(
    data: Path,
    targets: tuple[str, ...],
    features: tuple[str, ...],
    out_path: Path,
    checkpoint_path: Path,
    options: dict[str, Any],
    *,
    lead: bool,
) -> None:
    from gradfit.io.arrays import open_rows
    from gradfit.torch_backend.distributed import fit

    if options["backend"] != "torch":
        raise CommandError("--distributed needs --backend torch", Exit.USAGE)
    given = [name for name in UNSUPPORTED if options[name] is not None]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise CommandError(f"--distributed does not take {flags}", Exit.USAGE)
    source = open_rows(data, target=targets, features=features or None)
    batch: int | str | None = options["batch_size"] or DEFAULTS.batch_size
    if batch == "auto":
        batch = min(AUTO_BATCH, source.n_rows)
    solver = options["solver"] or DEFAULTS.solver
    hyper: dict[str, Any] = {"lr": options["lr"] or DEFAULTS.learning_rate_init}
    if solver == "sgd":
        hyper |= {"momentum": 0.9, "nesterov": True}
    epochs = options["epochs"] or DEFAULTS.max_iter
    lead = int(os.environ.get("RANK", "0")) == 0
    history_path = beside(out_path, ".history.csv")
    with EpochBar(epochs, enabled=None if lead else False) as bar:
        _, history = fit(
            source,
            hidden=options["hidden"] or DEFAULTS.hidden_layer_sizes,
            activation=options["activation"] or DEFAULTS.activation,
            dtype=options["dtype"] or DEFAULTS.dtype,
            optimizer=solver,
            epochs=epochs,
            batch_size=None if batch in (None, "full") else int(batch),
            seed=options["seed"],
            loss=options["loss"] or DEFAULTS.loss,
            device=options["device"],
            checkpoint=checkpoint_path,
            checkpoint_every=options["checkpoint_every"] or 2**62,
            resume=options["resume"],
            history_path=history_path,
            model_path=out_path,
            callbacks=[bar],
            **hyper,
        )
    if lead:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        click.echo(
            f"trained on {source.n_rows} rows of {data} in {world} process(es): "
            f"{history.epochs} epochs, final {history.loss_name} {history.loss[-1]:.6g}"
        )
        click.echo(f"wrote {out_path}, {history_path}, {checkpoint_path}")
