"""What the CLI shows of a classifier: its figures, its predictions as columns, its accuracy."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.cli.paths import beside
from gradfit.cli.running_scores import ClassifierSums
from gradfit.engine.types import Array
from gradfit.io.categories import encoded_name


def plot_classifier(
    model: Any,
    X: Array | None,
    y: Array | None,
    features: tuple[str, ...],
    targets: tuple[str, ...],
    out_path: Path,
    write: Callable[[Path, Callable[[Path], object]], Path],
) -> list[Path]:
    """NAME.training.png (loss and accuracy per epoch); with the rows in memory (``X``
    and ``y`` not ``None``) also NAME.confusion.png (on the rows given) and, with two or
    more features and one label per row, NAME.regions.png over two features
    (:func:`_shown_pair`; the others held at their medians, categories at their most
    common value). Each is drawn by ``write(path, draw)``.
    Returns the paths."""
    from gradfit import plotting
    from gradfit.cli.figures import frame, to_file

    draw = to_file(
        plotting.plot_training,
        model.history_,
        model.accuracy_curve_,
        model.validation_accuracy_curve_,
        title=f"Training a classifier of {', '.join(targets)}",
    )
    written = [write(beside(out_path, ".training.png"), draw)]
    if X is None or y is None:  # rows read from a file, not in memory
        return written
    if y.ndim == 1:
        from sklearn.metrics import confusion_matrix

        matrix = confusion_matrix(y, model.predict(frame(X, features)), labels=model.classes_)
        title = f"{targets[0]}: the {len(y)} rows of the data"
        draw = to_file(plotting.plot_confusion_matrix, matrix, model.classes_, title=title)
        written.append(write(beside(out_path, ".confusion.png"), draw))
    if y.ndim == 1 and len(features) >= 2:
        groups = _one_hot_groups(features, getattr(model, "categories_", None) or {})
        shown = _shown_pair(X, groups)
        held = _held_values(X, groups)

        def classify(points: Array) -> Array:
            full = np.tile(held, (len(points), 1))
            full[:, shown] = points
            return np.asarray(model.predict(frame(full, features)))

        held_as = "medians, categories at their most common value" if groups else "medians"
        others = "" if len(features) == 2 else f"\n(other inputs at their {held_as})"
        draw = to_file(
            plotting.plot_decision_regions, classify, X[:, shown], y,
            classes=list(model.classes_), xlabel=features[shown[0]],
            ylabel=features[shown[1]], title=f"Decision regions of {targets[0]}{others}",
        )  # fmt: skip
        written.append(write(beside(out_path, ".regions.png"), draw))
    return written


def _one_hot_groups(features: tuple[str, ...], categories: Any) -> list[list[int]]:
    """The positions in ``features`` of each category column's one-hot inputs."""
    where = {name: i for i, name in enumerate(features)}
    groups = [
        [where[encoded_name(column, v)] for v in values if encoded_name(column, v) in where]
        for column, values in categories.items()
    ]
    return [g for g in groups if g]


FEW_VALUES = 10
"""Distinct values up to which an input is a count or a code rather than a measurement: a
decision-regions figure over two of them is a lattice of points lying on each other."""


def _shown_pair(X: Array, groups: list[list[int]]) -> list[int]:
    """The two inputs a decision-regions figure spans: the first two of more than
    :data:`FEW_VALUES` distinct values (carData's ``Mroz``: age and log wage, not the
    counts of young and older children before them), then of more than two, never one-hot
    (a plane over two 0/1 inputs is four points); else the first two."""
    one_hot = {i for g in groups for i in g}
    counts = {j: np.unique(X[:, j]).size for j in range(X.shape[1]) if j not in one_hot}
    varied = [j for j, n in counts.items() if n > FEW_VALUES]
    varied += [j for j, n in counts.items() if 2 < n <= FEW_VALUES]
    return varied[:2] if len(varied) >= 2 else [0, 1]


def _held_values(X: Array, groups: list[list[int]]) -> Array:
    """Where the figure holds each input it does not span: at its median, and each
    category at its most common value (per-column medians of one-hot inputs can make a
    row of no category at all)."""
    held = np.median(X, axis=0)
    for g in groups:
        held[g] = 0.0
        held[g[int(np.argmax(X[:, g].sum(axis=0)))]] = 1.0
    return held


FIGURES = {
    "training figure": ".training.png",
    "confusion matrix figure": ".confusion.png",
    "decision regions figure": ".regions.png",
}
"""The suffixes of a classifier's figures, by what they show."""


def accuracy_line(
    model: Any, parts: Iterable[tuple[Any, Array, Array]], oob: Array | None = None
) -> str:
    """``accuracy 0.98 (log loss 0.05) on the 120 training rows, 0.96 (…) on the 30
    held-out rows``, from ``parts`` ``(X, y, trained)`` of the rows (all at once, or a
    chunk each), where ``trained`` marks the training rows. With ``oob`` (one part: an
    ensemble's ``oob_decision_function_``), the training rows are all rows and the
    held-out ones are scored out-of-bag."""
    sums = {"training": ClassifierSums(model.classes_), "held-out": ClassifierSums(model.classes_)}
    for X, y, trained in parts:
        predicted, P = np.asarray(model.predict(X)), model.predict_proba(X)
        if oob is not None:
            sums["training"].add(y, predicted, P)
            # Labels from the out-of-bag probabilities, as predict decides them.
            multilabel = y.ndim == 2
            P = oob
            predicted = (P > 0.5).astype(int) if multilabel else model.classes_[P.argmax(axis=1)]
        for name, mask in (("training", trained), ("held-out", ~trained)):
            if mask.any() and not (oob is not None and name == "training"):
                sums[name].add(y[mask], predicted[mask], P[mask])
    said = []
    for name, rows in sums.items():
        if rows.n:
            loss = "" if rows.multilabel else f" (log loss {rows.log_loss / rows.n:.4f})"
            said.append(f"{rows.correct / rows.n:.4f}{loss} on the {rows.n} {name} rows")
    return "accuracy " + ", ".join(said)


def numbers_as_labels(Y: Array, classes: Array) -> Array:
    """Labels read from a file as numbers, ``Y: (n_rows, n_targets)``, as the model's:
    one column as ``(n_rows,)`` of the classes' type, several as 0/1 integers."""
    return Y[:, 0].astype(classes.dtype) if Y.shape[1] == 1 else Y.astype(np.int64)


def prediction_columns(model: Any, targets: list[str], X: Any) -> tuple[list[str], list[list[Any]]]:
    """The header and rows ``predict`` writes: the label (one column per label when
    multilabel), then ``P(class)`` for each class in ``classes_`` order (multilabel:
    ``P(label)``, the probability that the label is 1)."""
    labels = np.asarray(model.predict(X))
    P = model.predict_proba(X)
    names = [str(c) for c in model.classes_]
    if labels.ndim == 1:
        head = [targets[0] if targets else "label"]
        label_rows = [[v] for v in labels.tolist()]
    else:
        head = targets if len(targets) == labels.shape[1] else [f"label_{n}" for n in names]
        label_rows = labels.tolist()
        # Each column is P(that label is 1): named P(a), not P(0) as if 0 were a class.
        names = head
    header = head + [f"P({n})" for n in names]
    return header, [a + b for a, b in zip(label_rows, P.tolist(), strict=True)]
