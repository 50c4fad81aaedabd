"""A learning rate chosen to diverge: DivergenceError, and the last finite model kept and usable."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from runs import sine, torch_single_thread

import gradfit
from gradfit.engine import train
from gradfit.engine.network import MLP
from gradfit.engine.optim import SGD
from gradfit.errors import DivergenceError

LR = 0.5  # on unscaled targets (amplitude 4), plain gradient descent overshoots and explodes


def _net() -> MLP:
    return MLP([1, 16, 1], "relu", rng=np.random.default_rng(0))


def _engine(net: MLP, epochs: int) -> None:
    train(net, *sine(), optimizer=SGD(net.parameters(), lr=LR), epochs=epochs)


def _torch(net: MLP, epochs: int) -> None:
    from gradfit.torch_backend import train as torch_train

    torch_train(net, *sine(), optimizer="sgd", lr=LR, epochs=epochs)


@pytest.mark.parametrize(
    "run", [_engine, pytest.param(_torch, marks=pytest.mark.torch)], ids=["numpy", "torch"]
)
def test_divergence_keeps_the_last_finite_epoch(run: Any, tmp_path: Path) -> None:
    if run is _torch:
        pytest.importorskip("torch")
    net = _net()
    with torch_single_thread() if run is _torch else nullcontext():
        with pytest.raises(DivergenceError) as info:
            run(net, 1000)
        epoch = info.value.epoch
        message = str(info.value)
        assert f"diverged in epoch {epoch + 1}" in message
        assert "lower learning rate" in message and "standardise" in message
        assert 1 <= epoch < 1000
        # The network holds exactly what `epoch` finite epochs produce.
        again = _net()
        run(again, epoch)
    for kept, redone in zip(net.parameters(), again.parameters(), strict=True):
        assert np.isfinite(kept).all()
        np.testing.assert_array_equal(kept, redone)
    # Still a usable model: it predicts finite values and saves and loads.
    X = np.linspace(-3, 3, 50).reshape(-1, 1)
    assert np.isfinite(net.forward(X)).all()
    gradfit.save(net, tmp_path / "diverged.safetensors")
    np.testing.assert_array_equal(
        gradfit.load(tmp_path / "diverged.safetensors").forward(X), net.forward(X)
    )


@pytest.mark.parametrize("backend", ["numpy", pytest.param("torch", marks=pytest.mark.torch)])
def test_the_estimator_diverges_with_a_usable_model(backend: str, tmp_path: Path) -> None:
    if backend == "torch":
        pytest.importorskip("torch")
    from gradfit.estimator import MLPRegressor

    X, Y = sine()
    model = MLPRegressor(
        hidden_layer_sizes=(16,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=50.0,
        batch_size=None,
        max_iter=200,
        random_state=0,
        backend=backend,
    )
    diverged = pytest.raises(DivergenceError, match=r"diverged in epoch \d+.*lower learning rate")
    with torch_single_thread() if backend == "torch" else nullcontext(), diverged:
        model.fit(X, Y[:, 0])
    prediction = model.predict(X)
    assert prediction.shape == (40,) and np.isfinite(prediction).all()
    path = tmp_path / "diverged.safetensors"
    gradfit.save(model, path)
    np.testing.assert_array_equal(gradfit.load(path).predict(X), prediction)
