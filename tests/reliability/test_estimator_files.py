"""The estimator: model files across backends, exact resume from a checkpoint, fuzzed files."""

from __future__ import annotations

import os
import signal
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_files import join, split
from mutations import FUZZ, flip, header_edit
from runs import sine, torch_single_thread

import gradfit
from gradfit.errors import ModelFileError
from gradfit.io.checkpoint import Checkpoint, load_checkpoint

pd = pytest.importorskip("pandas")
BACKENDS = ["numpy", pytest.param("torch", marks=pytest.mark.torch)]
# Ten epochs are too few to converge; that is not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _model(backend: str, **params: Any) -> Any:
    from gradfit.estimator import MLPRegressor

    if backend == "torch":
        pytest.importorskip("torch")
    return MLPRegressor(
        **{
            "hidden_layer_sizes": (8,),
            "batch_size": 8,
            "max_iter": 10,
            "learning_rate_init": 0.01,
            "random_state": 0,
            "backend": backend,
        }
        | params
    )


def _data() -> tuple[Any, np.ndarray]:
    X, Y = sine()
    return pd.DataFrame({"x": X[:, 0]}), Y[:, 0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fitted_estimator_round_trips(tmp_path: Path, backend: str) -> None:
    X, y = _data()
    with torch_single_thread() if backend == "torch" else nullcontext():
        model = _model(backend).fit(X, y)
    path = tmp_path / "model.safetensors"
    gradfit.save(model, path, target_names=["y"])
    back = gradfit.load(path)
    assert type(back) is type(model)
    assert back.get_params() == model.get_params()
    assert list(back.feature_names_in_) == ["x"] and back.target_names_ == ["y"]
    assert back.loss_curve_ == model.loss_curve_
    # Saved from either backend, it predicts with the engine's network: the same numbers.
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_checkpoint_and_resume_equal_one_fit(tmp_path: Path, backend: str) -> None:
    X, y = _data()
    params = {"early_stopping": True, "validation_fraction": 0.25, "n_iter_no_change": 50}
    with torch_single_thread() if backend == "torch" else nullcontext():
        straight = _model(backend, **params).fit(X, y)

        def ctrl_c_in_epoch_5(trainer: Any) -> None:
            if trainer.epoch == 4:
                os.kill(os.getpid(), signal.SIGINT)

        path = tmp_path / "run.ckpt"
        checkpoint = Checkpoint(path, every=1000)
        with pytest.raises(KeyboardInterrupt):
            _model(backend, **params).fit(X, y, callbacks=[ctrl_c_in_epoch_5, checkpoint])
        assert checkpoint.save()
        resumed = _model(backend, **params).fit(X, y, resume_from=load_checkpoint(path))
    assert resumed.n_iter_ == straight.n_iter_ == 10
    assert resumed.loss_curve_ == straight.loss_curve_
    assert resumed.validation_loss_curve_ == straight.validation_loss_curve_
    mine, theirs = resumed.coefs_ + resumed.intercepts_, straight.coefs_ + straight.intercepts_
    layers = zip(mine, theirs, strict=True)
    for a, b in layers:
        np.testing.assert_array_equal(a, b)


@pytest.fixture(scope="module")
def regressor_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("regressor") / "model.safetensors"
    gradfit.save(_model("numpy", max_iter=3).fit(*_data()), path, target_names=["y"])
    return path.read_bytes()


def _load_regressor(path: Path) -> None:
    try:
        model = gradfit.load(path)
    except ModelFileError:
        return
    assert all(np.isfinite(p).all() for p in model.net_.parameters())


@FUZZ
@given(st.data())
def test_fuzzed_regressor_files(regressor_bytes: bytes, data: Any) -> None:
    raw = (
        header_edit(regressor_bytes, data)
        if data.draw(st.booleans())
        else flip(regressor_bytes, data.draw(st.lists(st.integers(0, 2**20), min_size=1)))
    )
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"gradfit-fuzz-{os.getpid()}.safetensors"
    try:
        path.write_bytes(raw)
        _load_regressor(path)
    finally:
        path.unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.__setitem__("target_names", ["y", "z"]), "target_names ['y', 'z'] is not 1"),
        (lambda d: d.__setitem__("target_names", []), "target_names [] is not 1 distinct"),
        (
            lambda d: d["estimator"].__setitem__("feature_names_in_", ["x", "x"]),
            "feature_names_in_ is not a list of 1 distinct strings",
        ),
    ],
)
def test_names_that_disagree_with_the_network_are_refused(
    regressor_bytes: bytes, tmp_path: Path, edit: Any, message: str
) -> None:
    # They loaded, and predict then named its columns by a fallback or failed on the data.
    header, doc, body = split(regressor_bytes)
    edit(doc)
    path = tmp_path / "edited.safetensors"
    path.write_bytes(join(header, doc, body))
    with pytest.raises(ModelFileError, match="not a valid gradfit model file") as info:
        gradfit.load(path)
    assert message in str(info.value)
