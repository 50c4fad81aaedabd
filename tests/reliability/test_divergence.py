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
from gradfit.engine.divergence import EXPLOSION_EPOCHS
from gradfit.engine.network import MLP
from gradfit.engine.optim import SGD
from gradfit.engine.training import Trainer
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


def _exploding(max_iter: int) -> Any:
    from gradfit.estimator import MLPRegressor

    # Issue 13's reproducer: lr 1e6 sends the loss from ~1 to ~1e24 and back to ~1e12,
    # finite all along; every prediction was one constant.
    return MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=1e6, max_iter=max_iter,
                        random_state=0)  # fmt: skip


def test_a_finite_explosion_is_divergence_and_keeps_the_epoch_before_it() -> None:
    X, Y = sine()
    model = _exploding(50)
    with pytest.raises(DivergenceError, match="over 1e\\+06 times its first value") as info:
        model.fit(X, Y[:, 0])
    epoch = info.value.epoch
    assert model.n_iter_ == epoch and len(model.loss_curve_) == epoch
    assert max(model.loss_curve_, default=0) < 1e6 * model.loss_curve_[0] if epoch else True
    # What was kept is exactly the model of `epoch` epochs, trained afresh.
    again = _exploding(max(epoch, 1))
    if epoch:
        again.fit(X, Y[:, 0])
        for kept, redone in zip(model.coefs_, again.coefs_, strict=True):
            np.testing.assert_array_equal(kept, redone)
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize("spike", [EXPLOSION_EPOCHS - 1, EXPLOSION_EPOCHS])
def test_a_loss_that_recovers_within_the_patience_is_not_divergence(spike: int) -> None:
    class Spiky:
        """A stepper whose loss spikes a billion-fold for ``spike`` epochs."""

        from gradfit.engine.losses import MSE as loss

        n_samples = 1

        def __init__(self) -> None:
            self.calls = 0

        def step(self, rows: Any) -> float:
            self.calls += 1
            return 1e9 if 2 <= self.calls < 2 + spike else 1.0

        def get_parameters(self, out: Any = None) -> list[np.ndarray]:
            return [np.full(1, float(self.calls))]

        def parameters_finite(self) -> bool:
            return True

        def set_parameters(self, params: Any) -> None:
            self.restored = params[0].item()

    stepper = Spiky()
    trainer = Trainer(stepper, rng=np.random.default_rng(0))  # type: ignore[arg-type]
    if spike < EXPLOSION_EPOCHS:
        history = trainer.fit(10)
        assert history.loss == [1.0] + [1e9] * spike + [1.0] * (9 - spike)
        return
    with pytest.raises(DivergenceError, match="diverged in epoch 1: from there") as info:
        trainer.fit(10)
    # Epoch 2's loss, at the parameters epoch 1 produced, was the first to explode: back
    # to the initial parameters (taken before any step, calls == 0).
    assert info.value.epoch == 0 and trainer.history.loss == [] and trainer.epoch == 0
    assert stepper.restored == 0.0


def test_a_non_finite_loss_before_any_explosion_keeps_the_last_finite_epoch() -> None:
    class Fails:
        """A stepper whose loss is 1, 2, 3 and then NaN; parameters count the steps."""

        from gradfit.engine.losses import MSE as loss

        n_samples = 1

        def __init__(self) -> None:
            self.calls = 0

        def step(self, rows: Any) -> float:
            self.calls += 1
            return float(self.calls) if self.calls < 4 else float("nan")

        def get_parameters(self, out: Any = None) -> list[np.ndarray]:
            return [np.full(1, float(self.calls))]

        def parameters_finite(self) -> bool:
            return True

        def set_parameters(self, params: Any) -> None:
            self.restored = params[0].item()

    stepper = Fails()
    trainer = Trainer(stepper, rng=np.random.default_rng(0))  # type: ignore[arg-type]
    with pytest.raises(DivergenceError, match="the loss after its update became NaN") as info:
        trainer.fit(10)
    # The NaN is the loss at the parameters epoch 3 made: back to those of epoch 2.
    assert info.value.epoch == 2 and trainer.history.loss == [1.0, 2.0]
    assert stepper.restored == 2.0


def test_a_resume_in_the_middle_of_an_explosion_diverges_where_the_whole_run_does(
    tmp_path: Path,
) -> None:
    """The explosion's count and the parameters divergence goes back to are in the
    checkpoint: resumed two epochs into the explosion, the run stops at the same epoch
    and keeps the same parameters as the run that was never interrupted."""
    from gradfit.io.checkpoint import load_checkpoint, save_checkpoint

    X, Y = sine()
    whole = _exploding(50)
    with pytest.raises(DivergenceError) as info:
        whole.fit(X, Y[:, 0])
    sane = info.value.epoch
    stop_at = sane + EXPLOSION_EPOCHS - 1  # inside the explosion, before it counts

    def pause(trainer: Any) -> None:
        if trainer.epoch == stop_at:
            save_checkpoint(tmp_path / "run.ckpt", trainer)
            trainer.stop = True

    first = _exploding(50).fit(X, Y[:, 0], callbacks=[pause])
    assert first.n_iter_ == stop_at
    state = load_checkpoint(tmp_path / "run.ckpt")
    assert state["divergence"]["sane"]["epoch"] == sane
    resumed = _exploding(50)
    with pytest.raises(DivergenceError) as again:
        resumed.fit(X, Y[:, 0], resume_from=state)
    assert again.value.epoch == sane and str(again.value) == str(info.value)
    assert resumed.loss_curve_ == whole.loss_curve_
    for kept, redone in zip(whole.coefs_, resumed.coefs_, strict=True):
        np.testing.assert_array_equal(kept, redone)


def test_a_checkpoint_with_a_misstated_explosion_is_refused() -> None:
    from gradfit.engine import NumpyStepper, get_loss
    from gradfit.engine.state import check_resumable
    from gradfit.errors import ModelFileError

    X, Y = sine()
    net = _net()
    stepper = NumpyStepper(net, X, Y, get_loss("mse"), SGD(net.parameters(), lr=0.01))
    trainer = Trainer(stepper, rng=np.random.default_rng(0))
    trainer.fit(2)
    state = trainer.state_dict()
    state["divergence"]["sane"] = {"epoch": 5, "parameters": state["divergence"]["previous"]}
    with pytest.raises(ModelFileError, match="divergence state's epoch 5 is not one of 0…2"):
        check_resumable(trainer, state)
    state["divergence"] = {"previous": state["divergence"]["previous"][:1], "sane": None}
    with pytest.raises(ModelFileError, match="previous parameters: expected 4 arrays"):
        check_resumable(trainer, state)


def test_the_compiled_runs_judge_a_finite_explosion_as_one_epoch_at_a_time() -> None:
    """Full batch with nothing watching, the kernel runs many epochs to a call; a loss that
    explodes while finite is still caught where, and kept as, the NumPy steps catch it."""
    pytest.importorskip("numba")
    X, Y = sine()
    outcomes = []
    for kernel in ("on", "off"):
        net = _net()
        with pytest.raises(DivergenceError, match="finite but useless") as info:
            train(net, X, Y, optimizer=SGD(net.parameters(), lr=LR), epochs=100, kernel=kernel)
        outcomes.append((str(info.value), info.value.epoch, net.flat.copy()))
    (said, epoch, kept), (said_off, epoch_off, kept_off) = outcomes
    assert (said, epoch) == (said_off, epoch_off)
    np.testing.assert_allclose(kept, kept_off, rtol=1e-12)
    assert np.isfinite(kept).all()
