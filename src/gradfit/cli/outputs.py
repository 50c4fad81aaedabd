"""What ``gradfit fit`` writes and says besides the model: history, figures, summary."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

from gradfit.cli.class_outputs import accuracy_line, numbers_as_labels, plot_classifier
from gradfit.cli.figures import frame, to_file
from gradfit.cli.paths import beside, fit_figure
from gradfit.cli.scores import Scorer, table
from gradfit.defaults import MIN_VALIDATION_ROWS
from gradfit.engine.history import LOSS_LABELS
from gradfit.engine.types import Array
from gradfit.errors import MissingDependencyError, require
from gradfit.io.table import Table
from gradfit.io.tabular import write_csv


def noted(tables: Iterable[Table]) -> Iterator[Table]:
    """``tables``, each one's reader notes said on stderr (``gradfit: note: …``) as it comes."""
    for t in tables:
        for note in t.notes:
            click.echo(f"gradfit: note: {note}", err=True)
        yield t


@contextlib.contextmanager
def warnings_as_lines(options: dict[str, str]) -> Iterator[None]:
    """Show each warning raised inside as one line, ``gradfit: warning: …``.

    ``options`` maps the estimator's parameter names to the command's options, so that
    a warning says ``raise --epochs`` where the estimator says ``raise max_iter``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for w in caught:
                text = " ".join(str(w.message).split())
                for name, option in options.items():
                    # "loss" or "alpha" alone may be plain words; "max_iter" or "tol=" are not.
                    pattern = rf"\b{name}\b" if "_" in name else rf"\b{name}(?==)"
                    text = re.sub(pattern, option, text)
                warn_line(text)


SAID: set[str] = set()
"""The warnings this run has printed (cleared as a command starts)."""


def warn_line(text: str) -> None:
    """Print ``gradfit: warning: text``, once a run: the kernel's "cannot be cached on
    disk" came once per compiled function, seven times the same line."""
    line = f"gradfit: warning: {' '.join(text.split())}"
    if line not in SAID:
        SAID.add(line)
        click.echo(line, err=True)


def write_history(model: Any, path: Path) -> Path:
    """The loss per epoch as CSV ``epoch, loss, val_loss, restored``.

    ``val_loss`` is empty without a validation split; ``restored`` is 1 on the epoch
    whose parameters early stopping kept (the model's), empty elsewhere.
    A classifier's adds ``accuracy, val_accuracy``.
    """
    best = model.best_epoch_
    curves = [model.loss_curve_, model.validation_loss_curve_]
    header = ["epoch", "loss", "val_loss", "restored"]
    if is_classifier(model):
        curves += [model.accuracy_curve_, model.validation_accuracy_curve_]
        header += ["accuracy", "val_accuracy"]
    rows = (
        [i + 1, *(c[i] if i < len(c) else None for c in curves[:2]), 1 if i + 1 == best else None]
        + [c[i] if i < len(c) else None for c in curves[2:]]
        for i in range(len(model.loss_curve_))
    )
    write_csv(path, header, rows)
    return path


def is_classifier(model: Any) -> bool:
    """Whether ``model`` is a fitted :class:`~gradfit.MLPClassifier`."""
    return hasattr(model, "classes_")


def plot(
    model: Any,
    X: Array | None,
    Y: Array | None,
    features: tuple[str, ...],
    targets: tuple[str, ...],
    out_path: Path,
    write: Callable[[Path, Callable[[Path], object]], Path],
) -> list[Path]:
    """Draw NAME.loss.png and, with one feature, NAME.fit.png per target; return the paths.
    Without the rows in memory (``X`` is ``None``), NAME.loss.png alone. A classifier's
    figures are :func:`~gradfit.cli.class_outputs.plot_classifier`'s.

    A model with a spread (an ensemble, or a Gaussian head) draws its 90% interval as
    a band around the fit. Each figure is drawn by ``write(path, draw)`` calling
    ``draw(file)`` (see :meth:`gradfit.io.atomic.Staging.write`). Without matplotlib,
    warn and draw nothing.
    """
    try:
        require("matplotlib", "plot")
    except MissingDependencyError as exc:
        click.echo(f"gradfit: warning: no figures written: {exc}", err=True)
        return []
    from gradfit import plotting

    if is_classifier(model):
        return plot_classifier(model, X, Y, features, targets, out_path, write)
    if X is None or Y is None:  # rows read from a file, not in memory
        return plot_loss(model, out_path, write)
    Y = Y.reshape(X.shape[0], -1)
    written = plot_loss(model, out_path, write)
    if len(features) == 1:
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 400)
        inputs = frame(grid[:, None], features)
        fitted = np.asarray(model.predict(inputs)).reshape(grid.size, -1)
        band = None
        if getattr(model.net_, "n_members", 1) > 1 or model.loss == "gaussian_nll":
            band = [np.asarray(b).reshape(grid.size, -1) for b in model.predict_interval(inputs)]
        for j, target in enumerate(targets):
            title, observed = f"Fitted {target} against {features[0]}", (X[:, 0], Y[:, j])
            labels = {"observed": observed, "title": title, "xlabel": features[0], "ylabel": target}
            if band is None:
                draw = to_file(plotting.plot_fit, grid, fitted[:, j], **labels)
            else:
                draw = to_file(
                    plotting.plot_band, grid, fitted[:, j], band[0][:, j], band[1][:, j], **labels
                )
            written.append(write(fit_figure(out_path, target, targets), draw))
    return written


def plot_loss(
    model: Any, out_path: Path, write: Callable[[Path, Callable[[Path], object]], Path]
) -> list[Path]:
    """Draw NAME.loss.png, the loss per epoch (and the validation loss), as :func:`plot`."""
    from gradfit import plotting

    title = "Loss per epoch" + (" (on standardised data)" if model.standardize else "")
    draw = to_file(
        plotting.plot_loss, model.history_, title=title, restored_epoch=model.best_epoch_
    )
    return [write(beside(out_path, ".loss.png"), draw)]


def listed(names: tuple[str, ...] | list[str], most: int = 5) -> str:
    """``a, b, c`` — or, for a wide file, ``a, b, c, d, e, … (999 columns)``."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])}, … ({len(names)} columns)"


def summary(
    model: Any, X: Array, Y: Array, features: tuple[str, ...], targets: tuple[str, ...]
) -> str:
    """What was trained, why it stopped, and R², RMSE and MAE on the training and the
    held-out rows, in the targets' units."""
    if is_classifier(model):
        trained = np.ones(X.shape[0], dtype=bool)
        if model.validation_rows_ is not None:
            trained[model.validation_rows_] = False
        lines = _described(model, X.shape[0], features, targets)
        oob = model.oob_decision_function_ if members_hold_out(model) else None
        return "\n".join([*lines, accuracy_line(model, [(frame(X, features), Y, trained)], oob)])
    return summary_of_chunks(model, [(X, Y.reshape(X.shape[0], -1))], features, targets)


def summary_of_chunks(
    model: Any,
    chunks: Iterable[tuple[Array, Array]],
    features: tuple[str, ...],
    targets: tuple[str, ...],
) -> str:
    """:func:`summary` of the model on its rows given chunk by chunk, ``(X, Y)`` each
    in the order of the rows (so that ``validation_rows_`` find theirs); a classifier's
    ``Y`` holds its labels as numbers."""
    held, bagged = model.validation_rows_, members_hold_out(model)
    if bagged:
        held = np.unique(held)  # the rows any member held out
    n_rows = 0
    sets = {"training": Scorer(), "validation": Scorer()}
    parts = []
    for X, Y in chunks:
        trained = np.ones(X.shape[0], dtype=bool)
        if held is not None:
            mine = held[(held >= n_rows) & (held < n_rows + X.shape[0])]
            trained[mine - n_rows] = False
        rows = slice(n_rows, n_rows + X.shape[0])
        n_rows += X.shape[0]
        if is_classifier(model):
            parts.append((frame(X, features), numbers_as_labels(Y, model.classes_), trained))
            continue
        Y_hat = np.asarray(model.predict(frame(X, features))).reshape(Y.shape)
        if bagged:  # the ensemble on every row; out-of-bag on the held-out ones
            sets["training"].add(Y, Y_hat)
            Y_hat = model.oob_prediction_[rows].reshape(Y.shape)
        else:
            sets["training"].add(Y[trained], Y_hat[trained])
        sets["validation"].add(Y[~trained], Y_hat[~trained])
    lines = _described(model, n_rows, features, targets)
    if is_classifier(model):
        return "\n".join([*lines, accuracy_line(model, parts)])
    names = ["training"] + ([] if held is None else ["validation"])
    scored = [(name, sets[name].scores(targets)) for name in names]
    lines.append(table([(name, s[j]) for j in range(len(targets)) for name, s in scored]))
    if held is None:
        lines.append(
            "no rows were held out, so these scores flatter the model; "
            "score new data with `gradfit evaluate`"
        )
    return "\n".join(lines)


def _described(
    model: Any, n_rows: int, features: tuple[str, ...], targets: tuple[str, ...]
) -> list[str]:
    """The summary's first lines: the network, the rows, why training stopped."""
    held = model.validation_rows_
    rows = f"trained {model.n_iter_} epochs on {n_rows} rows"
    if members_hold_out(model):
        K, n_held = held.shape
        rows += (
            f": {K} networks, each holding out {n_held} of its own for validation "
            f"({np.unique(held).size} rows in all, scored out-of-bag)"
        )
    elif held is not None:
        rows += f": {n_rows - held.size} to train on, {held.size} held out for validation"
    return [f"{architecture(model)}: {listed(features)} -> {listed(targets)}", rows,
            stopping(model)]  # fmt: skip


def members_hold_out(model: Any) -> bool:
    """Whether each member of ``model`` held out a validation split of its own."""
    held = model.validation_rows_
    return held is not None and held.ndim == 2


def architecture(model: Any) -> str:
    """``MLP 10 → 100 → 1 (relu, 1,201 parameters, mean squared error)``, or for an
    ensemble ``5 MLPs 10 → 100 → 1 (relu, 6,005 parameters, …)``."""
    net = model.net_
    members = getattr(net, "n_members", 1)
    kind = "MLP" if members == 1 else f"{members} MLPs"
    sizes = " → ".join(map(str, net.sizes))
    n = sum(p.size for p in net.parameters())
    loss = LOSS_LABELS.get(model.history_.loss_name, model.history_.loss_name)
    return f"{kind} {sizes} ({net.activation}, {n:,} parameters, {loss})"


def stopping(model: Any) -> str:
    """Why the fit ended, and which epoch's parameters the model holds."""
    patience = f"by --tol {model.tol:g} for {model.n_iter_no_change} epochs"
    restored = f"restored epoch {model.best_epoch_}, the one with the lowest validation loss"
    if model.stop_reason_ == "early_stopping":
        stop = f"early stop at epoch {model.n_iter_}"
        return f"{stop}: the validation loss had not fallen {patience}; {restored}"
    if model.early_stopping_:
        return f"reached --epochs {model.max_iter}; {restored}"
    why = "--no-early-stopping"
    if model.early_stopping == "auto":
        why = f"no early stopping: a held-out part would have fewer than {MIN_VALIDATION_ROWS} rows"
    if model.stop_reason_ == "no_improvement":
        return (
            f"stopped at epoch {model.n_iter_}: the training loss had not fallen {patience} ({why})"
        )
    return f"reached --epochs {model.max_iter} ({why})"
