"""Scores summed over chunks of rows: ``evaluate`` on a file of any size.

Each accumulator takes the chunks one by one (``add``) and keeps sums and counts only,
so memory is bounded by a chunk; its result equals the in-memory score of all the rows
to rounding (the sums are added in another order). R², RMSE and MAE are
:class:`~gradfit.cli.scores.Scorer`'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.io.categories import case_twin


class SpreadSums:
    """The Gaussian NLL, the 90% interval's coverage and width, and the miscalibration
    area (:mod:`gradfit.uncertainty`) per target, from chunks of ``(Y, μ, σ)``."""

    def __init__(self) -> None:
        from gradfit.uncertainty import CALIBRATION_LEVELS, LOG_2PI, z_score

        self.n = 0
        self.log_2pi, self.levels = LOG_2PI, CALIBRATION_LEVELS
        self.z90 = z_score(0.9)
        self.z = np.array([z_score(float(c)) for c in CALIBRATION_LEVELS])
        self.nll: Array = np.zeros(0)
        self.covered: Array = np.zeros(0)
        self.std: Array = np.zeros(0)
        self.within: Array = np.zeros(0)

    def add(self, Y: Array, mean: Array, std: Array) -> None:
        """One chunk, each of shape ``(n_rows, n_targets)``."""
        with np.errstate(over="ignore"):  # |y - μ| > 1e154: an NLL of inf, said as such
            var = np.square(std)
            nll = (0.5 * (self.log_2pi + np.log(var)) + np.square(Y - mean) / (2 * var)).sum(axis=0)
        distance = np.abs(Y - mean) / std
        covered = (distance <= self.z90).sum(axis=0)
        within = (distance[None, :, :] <= self.z[:, None, None]).sum(axis=1)
        if self.n == 0:
            self.nll, self.covered, self.std, self.within = nll, covered, std.sum(axis=0), within
        else:
            self.nll = self.nll + nll
            self.covered = self.covered + covered
            self.std = self.std + std.sum(axis=0)
            self.within = self.within + within
        self.n += Y.shape[0]

    def scores(self) -> list[dict[str, float]]:
        """Per target: ``nll``, ``coverage_90``, ``width_90`` and ``miscalibration``."""
        observed = self.within / self.n
        miscalibration = np.abs(observed - self.levels[:, None]).mean(axis=0)
        return [
            {
                "nll": float(self.nll[j] / self.n),
                "coverage_90": float(self.covered[j] / self.n),
                "width_90": float(2 * self.z90 * self.std[j] / self.n),
                "miscalibration": float(miscalibration[j]),
            }
            for j in range(self.nll.size)
        ]


class ClassifierSums:
    """Accuracy, balanced accuracy, log loss and the confusion matrix of a classifier
    with ``classes``, from chunks of ``(y, predicted labels, P)``; for multilabel
    targets ``y: (n_rows, n_labels)``, subset accuracy and the log loss per label."""

    def __init__(self, classes: Array) -> None:
        self.classes = classes
        self.n = 0
        self.correct = 0
        self.log_loss = 0.0
        self.entries = 0
        self.confusion: Array = np.zeros((len(classes), len(classes)), dtype=np.int64)
        self.multilabel = False

    def add(self, y: Array, predicted: Array, P: Array) -> None:
        """One chunk: true labels ``y``, predicted labels and probabilities ``P``."""
        from sklearn.metrics import confusion_matrix, log_loss

        self.n += len(y)
        self.entries += y.size
        self.multilabel = y.ndim > 1
        if self.multilabel:
            self.correct += int((y == predicted).all(axis=1).sum())
            self.log_loss += log_loss(y.ravel(), P.ravel(), labels=[0, 1], normalize=False)
            return
        self.correct += int((y == predicted).sum())
        self.log_loss += log_loss(y, P, labels=self.classes, normalize=False)
        self.confusion += confusion_matrix(y, predicted, labels=self.classes)

    def scores(self) -> dict[str, Any]:
        """The scores as ``evaluate --json`` prints them: ``rows``, ``accuracy``,
        ``balanced_accuracy``, ``log_loss``, ``classes`` and ``confusion_matrix`` (rows:
        true, columns: predicted); for multilabel rows, subset accuracy and
        ``log_loss_per_label``."""
        if self.multilabel:
            return {
                "rows": self.n,
                "accuracy": self.correct / self.n,
                "log_loss_per_label": self.log_loss / self.entries,
            }
        matrix = self.confusion
        seen = matrix.sum(axis=1) > 0
        return {
            "rows": self.n,
            "accuracy": self.correct / self.n,
            "balanced_accuracy": float(np.mean(np.diag(matrix)[seen] / matrix.sum(axis=1)[seen])),
            "log_loss": self.log_loss / self.n,
            "classes": self.classes.tolist(),
            "confusion_matrix": matrix.tolist(),
        }

    def lines(self) -> str:
        """The scores as ``evaluate`` prints them: one per line, then the confusion
        matrix for one label per row (multilabel rows: the log loss per label)."""
        s = self.scores()
        lines = [f"rows               {self.n}", f"accuracy           {s['accuracy']:.4f}"]
        if self.multilabel:
            lines.append(f"log loss           {s['log_loss_per_label']:.4f} (per label)")
            return "\n".join(lines)
        lines.append(f"balanced accuracy  {s['balanced_accuracy']:.4f}")
        lines.append(f"log loss           {s['log_loss']:.4f}")
        # A label holding a line break or a tab would break the table: shown escaped.
        names = [n if n.isprintable() else repr(n)[1:-1] for n in map(str, self.classes)]
        matrix = self.confusion
        width = max(6, *(len(n) for n in names), len(str(matrix.max())))
        lines.append("confusion matrix (rows: true, columns: predicted):")
        lines.append(" " * (width + 2) + " ".join(n.rjust(width) for n in names))
        for name, row in zip(names, matrix, strict=True):
            lines.append(name.rjust(width) + "  " + " ".join(str(v).rjust(width) for v in row))
        return "\n".join(lines)


def as_labels(y: Any, classes: Array, where: str = "the file") -> Array:
    """Labels read from a file as the model's: integers as text for a model of text labels,
    text that names them for a model of integer labels.

    Raises :class:`~gradfit.errors.DataError` naming the labels of ``y: (n_rows,)`` that
    are not among ``classes`` (``where`` says whose labels), which no score can count.
    """
    y = np.asarray(y)
    if y.dtype.kind in "iu" and classes.dtype.kind == "U":
        y = _by_value(y, classes)
    if y.ndim != 1:
        return y
    if y.dtype.kind in "OUS" and classes.dtype.kind in "biu":
        # Text that names a model's number: a Parquet column of "7" and "10" read as text,
        # for a model trained --distributed on it, which reads that column as numbers.
        names, codes = np.unique(y.astype(str), return_inverse=True)
        by_name = {str(c): c for c in classes.tolist()}
        if set(by_name) == {"0", "1"}:
            # True/False, read as text, for a model that took them for 1/0: one trained
            # --distributed on a Parquet column of booleans, which it reads as numbers.
            by_name |= {"False": by_name["0"], "True": by_name["1"]}
        unseen = [n for n in names.tolist() if n not in by_name]
        if not unseen:
            y = np.array([by_name[n] for n in names.tolist()], dtype=classes.dtype)[codes]
    else:
        unseen = [str(v) for v in np.unique(y[~np.isin(y, classes)])]
    if unseen:
        shown = ", ".join(repr(v) for v in unseen[:5]) + (", …" if len(unseen) > 5 else "")
        known = ", ".join(repr(c) for c in classes.tolist()[:10])
        known += f", … ({len(classes)} in all)" if len(classes) > 10 else ""
        twins = [(u, t) for u in unseen[:5] if (t := case_twin(u, classes.tolist())) is not None]
        spelt = "".join(f"; {u!r} differs from the class {t!r} only in case" for u, t in twins)
        raise DataError(
            f"{where}: label(s) {shown} are not among the model's classes ({known}){spelt}; "
            "score only rows of those classes, or refit on data that has these labels"
        )
    return y


def _by_value(y: Array, classes: Array) -> Array:
    """Integer labels ``y`` as a model's text ``classes``: each by its value where the
    classes spell integers one way each (codes ``01``, ``10`` kept as written by fit, read
    here as 1 and 10 from a chunk of the file), else as text."""
    spelling: dict[int, list[str]] = {}
    for c in classes.tolist():
        try:
            value = float(c)
        except ValueError:
            continue
        if value.is_integer():
            spelling.setdefault(int(value), []).append(c)
    if not spelling or any(len(s) > 1 for s in spelling.values()):
        return y.astype(str)
    return np.array([spelling[v][0] if v in spelling else str(v) for v in y.tolist()])
