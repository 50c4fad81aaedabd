"""How a fit ended — ``early_stopping_``, ``best_epoch_``, ``stop_reason_`` — survives a
model file, and a file that misstates it is refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gradfit
from gradfit.errors import ModelFileError
from gradfit.estimator import MLPRegressor, _state


@pytest.fixture(scope="module")
def fitted() -> MLPRegressor:
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(300, 2))
    y = np.sin(X[:, 0]) + rng.normal(0, 0.3, 300)
    return MLPRegressor((16,), n_iter_no_change=5, random_state=0).fit(X, y)


def test_a_model_file_keeps_how_the_fit_ended(fitted: MLPRegressor, tmp_path: Path) -> None:
    assert fitted.early_stopping_ is True and fitted.stop_reason_ == "early_stopping"
    assert 0 < fitted.best_epoch_ < fitted.n_iter_
    gradfit.save(fitted, tmp_path / "m.safetensors")
    back = gradfit.load(tmp_path / "m.safetensors")
    assert (back.early_stopping_, back.best_epoch_, back.stop_reason_) == (
        True, fitted.best_epoch_, "early_stopping",
    )  # fmt: skip


def test_a_file_from_before_reads_as_unknown(fitted: MLPRegressor) -> None:
    meta, arrays = _state.export_state(fitted)
    for key in ("early_stopping_", "best_epoch_", "stop_reason_"):
        del meta[key]
    back = _state.import_state(MLPRegressor, meta, arrays)
    assert (back.early_stopping_, back.best_epoch_, back.stop_reason_) == (None, None, None)
    np.testing.assert_array_equal(back.predict(np.zeros((1, 2))), fitted.predict(np.zeros((1, 2))))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("early_stopping_", "yes", "early_stopping_ 'yes' is not true, false or null"),
        ("best_epoch_", -1, "best_epoch_ -1 is not an epoch between 0 and n_iter_"),
        ("best_epoch_", 10**6, "best_epoch_ 1000000 is not an epoch"),
        ("best_epoch_", True, "best_epoch_ True is not an epoch"),
        ("stop_reason_", "bored", "stop_reason_ 'bored' is not one of early_stopping,"),
    ],
)
def test_a_misstated_ending_is_refused(fitted: MLPRegressor, key: str, value: object,
                                       message: str) -> None:  # fmt: skip
    meta, arrays = _state.export_state(fitted)
    meta[key] = value
    with pytest.raises(ModelFileError, match="inconsistent: " + message):
        _state.import_state(MLPRegressor, meta, arrays)


def test_a_fit_cut_short_warns_at_the_callers_line() -> None:
    # The warning is raised three calls below fit; it names the line that called fit.
    from sklearn.exceptions import ConvergenceWarning

    X = np.linspace(-1, 1, 50)[:, None]
    with pytest.warns(ConvergenceWarning, match="max_iter=3 epochs while the loss") as seen:
        model = MLPRegressor(max_iter=3, n_members=1, random_state=0).fit(X, X[:, 0] ** 2)
    assert model.stop_reason_ == "max_iter"
    assert [Path(w.filename).name for w in seen] == [Path(__file__).name]
