"""The README's table of bad data ("| bad data | `gradfit.engine.train` |
`MLPRegressor.fit` |"): each row's mistake, made on 20 rows of one input, raises
``DataError`` with the words the table shows (up to its "…"), from the engine's ``train``
and from the estimator (its NaN and inf rows had kept scikit-learn's words after gradfit's
advice replaced them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gradfit import MLPRegressor, engine
from gradfit.errors import DataError

README = Path(__file__).parents[2] / "README.md"
TABLE = "| bad data | `gradfit.engine.train` | `MLPRegressor.fit` |"


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 1)), rng.normal(size=20)


def _nan_in_X() -> tuple[np.ndarray, np.ndarray]:
    X, y = _data()
    X[3, 0] = np.nan
    return X, y


def _inf_in_y() -> tuple[np.ndarray, np.ndarray]:
    X, y = _data()
    y[5] = np.inf
    return X, y


def _text_in_X() -> tuple[np.ndarray, np.ndarray]:
    X, y = _data()
    cells = X.astype(object)
    cells[2, 0] = "a"
    return cells, y


MISTAKES: dict[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "NaN in X": _nan_in_X,
    "inf in y": _inf_in_y,
    "text in X": _text_in_X,
    "X and y of different lengths": lambda: (_data()[0], _data()[1][:15]),
    "empty X": lambda: (_data()[0][:0], _data()[1][:0]),
    "3-D X": lambda: (_data()[0].reshape(20, 1, 1), _data()[1]),
    "2 columns for a 1-input network": lambda: (np.hstack([_data()[0]] * 2), _data()[1]),
}


def rows() -> list[tuple[str, str, str]]:
    """``(mistake, engine's words, estimator's words or "")`` of each row."""
    text = README.read_text(encoding="utf-8").split(TABLE, 1)[1]
    found = []
    for line in text.splitlines()[2:]:
        if not line.startswith("| "):
            break
        mistake, engine_cell, estimator_cell = line.strip("| ").split(" | ")
        spans = [re.findall(r"`([^`]*)`", cell) for cell in (engine_cell, estimator_cell)]
        found.append((mistake, spans[0][0], spans[1][0] if spans[1] else ""))
    return found


def assert_says(error: DataError, shown: str) -> None:
    """``error``'s message is ``shown``, or begins as it does up to its "…"."""
    if shown.endswith("…"):
        assert str(error).startswith(shown.removesuffix("…")), (str(error), shown)
    else:
        assert str(error) == shown


def test_every_row_has_its_mistake() -> None:
    assert [row[0] for row in rows()] == list(MISTAKES)


@pytest.mark.parametrize(("mistake", "from_engine", "from_estimator"), rows())
def test_each_mistake_raises_the_readme_words(
    mistake: str, from_engine: str, from_estimator: str
) -> None:
    X, y = MISTAKES[mistake]()
    net = engine.MLP([1, 4, 1], rng=np.random.default_rng(0))
    with pytest.raises(DataError) as raised:
        engine.train(net, X, y, optimizer=engine.SGD(net.parameters(), lr=0.1), epochs=1)
    assert_says(raised.value, from_engine)
    if from_estimator:
        with pytest.raises(DataError) as raised:
            MLPRegressor(max_iter=1).fit(X, y)
        assert_says(raised.value, from_estimator)
