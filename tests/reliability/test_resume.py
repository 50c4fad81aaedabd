"""Exact resume: 10 epochs in one run equal 5, a checkpoint, fresh objects, and 5 more."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from runs import BestLoss, assert_same_run, assert_same_state, make_trainer, torch_single_thread

from gradfit.engine.training import Trainer
from gradfit.errors import ModelFileError, OutputPathError
from gradfit.io.checkpoint import Checkpoint, load_checkpoint, save_checkpoint

BACKENDS = ["numpy", pytest.param("torch", marks=pytest.mark.torch)]
BATCHES = [pytest.param(None, id="full-batch"), pytest.param(8, id="minibatch-8")]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "torch":
        pytest.importorskip("torch")
        with torch_single_thread():
            yield "torch"
    else:
        yield "numpy"


def _resumed(backend: str, path: Path, batch_size: int | None, **kwargs: Any) -> Trainer:
    # Other seeds for the initial weights and the generator: all must come from the file.
    fresh = make_trainer(backend, batch_size=batch_size, init_seed=77, rng_seed=78, **kwargs)
    fresh.load_state_dict(load_checkpoint(path))
    return fresh


@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_checkpoint_every_5_then_resume_equals_one_run(
    tmp_path: Path, backend: str, batch_size: int | None, optimizer: str
) -> None:
    straight = make_trainer(backend, batch_size=batch_size, optimizer=optimizer)
    straight.fit(10)

    path = tmp_path / "run.ckpt"
    first = make_trainer(
        backend, batch_size=batch_size, optimizer=optimizer, callbacks=[Checkpoint(path, every=5)]
    )
    first.fit(7)  # the file holds epoch 5; epochs 6 and 7 are lost, as in a crash
    resumed = _resumed(backend, path, batch_size, optimizer=optimizer)
    assert resumed.epoch == 5
    resumed.fit(5)
    assert_same_run(resumed, straight)


@pytest.mark.parametrize("batch_size", BATCHES)
def test_ctrl_c_is_deferred_to_the_epoch_end_then_saved_and_resumed(
    tmp_path: Path, backend: str, batch_size: int | None
) -> None:
    straight = make_trainer(backend, batch_size=batch_size)
    straight.fit(10)

    trainer = make_trainer(backend, batch_size=batch_size)
    steps = {"n": 0}
    step = trainer.stepper.step

    def step_then_ctrl_c(rows: Any) -> float:
        # SIGINT arrives in the middle of epoch 5's first update.
        steps["n"] += 1
        if trainer.epoch == 4 and steps.setdefault("sent", 0) == 0:
            steps["sent"] = 1
            os.kill(os.getpid(), signal.SIGINT)
        return step(rows)

    trainer.stepper.step = step_then_ctrl_c  # type: ignore[method-assign]
    checkpoint = Checkpoint(tmp_path / "run.ckpt", every=1000)
    trainer.callbacks.append(checkpoint)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(10)
    assert trainer.epoch == 5, "the interrupt waits for the epoch to finish"
    assert checkpoint.save()
    resumed = _resumed(backend, tmp_path / "run.ckpt", batch_size)
    resumed.fit(5)
    assert_same_run(resumed, straight)


def test_resume_in_a_new_process_is_exact(tmp_path: Path) -> None:
    straight = make_trainer("numpy", batch_size=8)
    straight.fit(10)
    path = tmp_path / "run.ckpt"
    make_trainer("numpy", batch_size=8, callbacks=[Checkpoint(path, every=5)]).fit(5)
    out = tmp_path / "resumed.ckpt"
    script = f"""
        from runs import make_trainer
        from gradfit.io.checkpoint import load_checkpoint, save_checkpoint
        t = make_trainer("numpy", batch_size=8, init_seed=5, rng_seed=6)
        t.load_state_dict(load_checkpoint({str(path)!r}))
        t.fit(5)
        save_checkpoint({str(out)!r}, t)
    """
    # The tests' own directory first, then whatever path the tests run with.
    search = os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])
    env = os.environ | {"PYTHONPATH": search}
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True, env=env)
    resumed = make_trainer("numpy", batch_size=8, init_seed=3, rng_seed=4)
    resumed.load_state_dict(load_checkpoint(out))
    assert_same_run(resumed, straight)


def test_a_checkpoint_from_numpy_resumes_on_torch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    with torch_single_thread():
        straight = make_trainer("numpy", batch_size=8)
        straight.fit(10)
        path = tmp_path / "run.ckpt"
        make_trainer("numpy", batch_size=8, callbacks=[Checkpoint(path, every=5)]).fit(5)
        on_torch = _resumed("torch", path, 8)
        on_torch.fit(5)
    # Different kernels sum in another order: agreement to rounding, not to the bit.
    np.testing.assert_allclose(on_torch.history.loss, straight.history.loss, rtol=1e-10)
    params = zip(on_torch.stepper.get_parameters(), straight.stepper.get_parameters(), strict=True)
    for a, b in params:
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_extra_meta_and_non_finite_floats_round_trip(tmp_path: Path) -> None:
    trainer = make_trainer("numpy", batch_size=None)
    meta = {"params": {"lr": 0.01, "sizes": [1, 8, 1]}, "note": "x", "mask": np.arange(3)}
    save_checkpoint(tmp_path / "c.ckpt", trainer, meta)
    state = load_checkpoint(tmp_path / "c.ckpt")
    assert state["meta"]["params"] == {"lr": 0.01, "sizes": [1, 8, 1]}
    np.testing.assert_array_equal(state["meta"]["mask"], np.arange(3))
    assert state["callbacks"] == [{"type": "BestLoss", "state": {"best": float("inf"), "since": 0}}]


MISMATCHES = [
    ({"batch_size": 4}, "batch_size=8, this run has 4"),
    ({"optimizer": "sgd"}, "resume with the same optimizer"),
    ({"callbacks": [BestLoss()]}, "callbacks ['BestLoss'], this run has ['BestLoss', 'BestLoss']"),
]


@pytest.mark.parametrize(("change", "message"), MISMATCHES)
def test_a_checkpoint_that_does_not_fit_the_run_is_refused_untouched(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "run.ckpt"
    make_trainer("numpy", batch_size=8, callbacks=[Checkpoint(path, every=2)]).fit(2)
    other = make_trainer("numpy", **({"batch_size": 8} | change))
    before = other.state_dict()
    with pytest.raises(ModelFileError, match="cannot resume from this checkpoint") as info:
        other.load_state_dict(load_checkpoint(path))
    assert message in str(info.value)
    assert_same_state(other.state_dict(), before)


def test_other_network_shapes_are_refused(tmp_path: Path) -> None:
    from runs import sine

    from gradfit.engine.losses import MSE
    from gradfit.engine.network import MLP
    from gradfit.engine.numpy_stepper import NumpyStepper
    from gradfit.engine.optim import Adam

    path = tmp_path / "run.ckpt"
    save_checkpoint(path, make_trainer("numpy", batch_size=None))
    net = MLP([1, 9, 1], "tanh", rng=np.random.default_rng(0))
    stepper = NumpyStepper(net, *sine(), MSE(), Adam(net.parameters()))
    trainer = Trainer(stepper, rng=np.random.default_rng(0), callbacks=[BestLoss()])
    with pytest.raises(ModelFileError, match=r"expected float64 \(9, 1\), found float64 \(8, 1\)"):
        trainer.load_state_dict(load_checkpoint(path))


def test_a_checkpoint_path_no_file_can_take_is_refused_before_training(tmp_path: Path) -> None:
    """It was refused by the first save, after ``every`` epochs of training."""
    with pytest.raises(OutputPathError) as info:
        Checkpoint(tmp_path, every=50)
    assert str(info.value) == (
        f"cannot write the checkpoint to '{tmp_path}': it is a folder; give the path of a "
        "file, such as one in that folder"
    )
    with pytest.raises(OutputPathError, match=r"the folder '.*nope' does not exist"):
        Checkpoint(tmp_path / "nope" / "run.ckpt")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_resuming_from_a_path_says_to_load_it_first(tmp_path: Path) -> None:
    """It said 'it lacks everything', of a string the user took for the checkpoint."""
    from gradfit.estimator import MLPRegressor

    X = np.random.default_rng(0).normal(size=(30, 2))
    for path in ("run.ckpt", Path("run.ckpt")):
        model = MLPRegressor((3,), max_iter=2)
        with pytest.raises(ModelFileError) as info:
            model.fit(X, X[:, 0], resume_from=path)
        assert str(info.value) == (
            "cannot resume from this checkpoint: 'run.ckpt' is the path of one, not its "
            "state: pass what load_checkpoint('run.ckpt') returns"
        )
        assert not hasattr(model, "net_")


def test_checkpoint_must_follow_the_callbacks_whose_state_it_saves(tmp_path: Path) -> None:
    trainer = make_trainer("numpy", batch_size=None)
    trainer.callbacks.insert(0, Checkpoint(tmp_path / "c.ckpt"))
    with pytest.raises(ValueError, match="Checkpoint must come after BestLoss"):
        trainer.fit(1)
    assert Checkpoint(tmp_path / "unused.ckpt").save() is False


def test_a_model_and_a_checkpoint_are_not_taken_for_each_other(tmp_path: Path) -> None:
    import gradfit
    from gradfit.engine.network import MLP

    save_checkpoint(tmp_path / "run.ckpt", make_trainer("numpy", batch_size=None))
    gradfit.save(MLP([1, 2, 1], rng=np.random.default_rng(0)), tmp_path / "net.safetensors")
    with pytest.raises(ModelFileError, match="it is a checkpoint, not a model"):
        gradfit.load(tmp_path / "run.ckpt")
    with pytest.raises(ModelFileError, match="it is a model file, not a checkpoint"):
        load_checkpoint(tmp_path / "net.safetensors")
