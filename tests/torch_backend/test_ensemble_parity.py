"""An ensemble trained by the engine and by torch agrees at every step, in float64.

Same tolerances as ``test_parity.py`` (see its docstring): torch sums in another order,
so the bits differ, but a formula mistake would show far above ``rtol=1e-10``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit.engine import Adam, Ensemble, EnsembleStepper, Trainer, get_loss

from .test_parity import Recorder, assert_same_trajectory

torch = pytest.importorskip("torch")
from gradfit.torch_backend import TorchStepper, make_optimizer, to_torch  # noqa: E402
from gradfit.torch_backend.ensemble import StackedMLP  # noqa: E402

STEPS = 400
FULL_BATCH_STEPS = 250
"""Full-batch Adam on the NLL, where the variances keep shrinking, turns unstable near
400 steps (rounding differences then grow each step, in the engine alone too; see
``test_parity.py``), so the full-batch case stops well before."""


def data(n_targets: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(30, 2))
    noise = rng.normal(0, 0.1 + 0.2 * np.abs(X[:, :1]), size=(30, n_targets))
    return X, np.sin(X[:, :1]) + X[:, 1:] ** 2 / 4 + noise


@pytest.mark.parametrize(
    ("loss", "sizes", "activation", "batch"),
    [
        ("gaussian_nll", [2, 8, 2], "relu", 8),
        ("gaussian_nll", [2, 6, 6, 4], "tanh", None),
        ("mse", [2, 8, 1], "relu", 8),
        ("sse", [2, 5, 1], "sigmoid", 8),
    ],
)
def test_engine_and_torch_ensembles_agree_at_every_step(
    loss: str, sizes: list[int], activation: str, batch: int | None
) -> None:
    n_targets = sizes[-1] // 2 if loss == "gaussian_nll" else sizes[-1]
    X, Y = data(n_targets)
    net = Ensemble(sizes, activation, 3, rng=np.random.default_rng(42))
    module = to_torch(net.copy())
    assert isinstance(module, StackedMLP)
    ours = net.copy()
    hyper: dict[str, Any] = {"lr": 0.005 if loss != "sse" else 1e-3}
    steppers = (
        EnsembleStepper(ours, X, Y, get_loss(loss), Adam(ours.parameters(), **hyper)),
        TorchStepper(module, X, Y, loss=get_loss(loss),
                     optimizer=make_optimizer("adam", module.parameters(), **hyper)),
    )  # fmt: skip
    epochs = FULL_BATCH_STEPS if batch is None else STEPS // 4
    recorders = [Recorder(s) for s in steppers]
    for rec in recorders:
        Trainer(rec, batch_size=batch, rng=np.random.default_rng(7)).fit(epochs)
    assert_same_trajectory(*recorders)
    assert recorders[0].losses[-1] < recorders[0].losses[0] - 0.3
    assert_allclose(module.to_engine().flat, ours.flat, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("parted", [False, True], ids=["whole", "in-parts"])
@pytest.mark.parametrize(("loss", "sizes"), [("gaussian_nll", [2, 8, 2]), ("mse", [2, 8, 1])])
def test_the_compiled_kernels_members_and_torchs_agree_at_every_step(
    loss: str, sizes: list[int], parted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiled kernel's ensemble (its Gaussian heads too), members whole or each in
    two parts of the rows: torch's trajectory at every step, as the NumPy engine's."""
    numba = pytest.importorskip("numba")  # noqa: F841
    from gradfit.engine.kernel import stepper as kernel_stepper

    monkeypatch.setattr(kernel_stepper, "PARALLEL_WORK", 0 if parted else 10**18)
    X, Y = data(1)
    net = Ensemble(sizes, "relu", 3, rng=np.random.default_rng(42))
    module, ours = to_torch(net.copy()), net.copy()
    steppers = (
        kernel_stepper.EnsembleKernelStepper(ours, X, Y, get_loss(loss),
                                             Adam(ours.parameters(), lr=0.005)),
        TorchStepper(module, X, Y, loss=get_loss(loss),
                     optimizer=make_optimizer("adam", module.parameters(), lr=0.005)),
    )  # fmt: skip
    recorders = [Recorder(s) for s in steppers]
    for rec in recorders:
        Trainer(rec, batch_size=8, rng=np.random.default_rng(7)).fit(STEPS // 4)
    assert_same_trajectory(*recorders)
    assert recorders[0].losses[-1] < recorders[0].losses[0] - 0.3
    assert_allclose(module.to_engine().flat, ours.flat, rtol=1e-10, atol=1e-12)


def test_members_on_rows_of_their_own_agree_at_every_step() -> None:
    """Bagged members (each on its own rows, ``member_rows``): engine and torch agree."""
    X, Y = data(1)
    member_rows = np.stack([np.delete(np.arange(30), np.arange(k, 30, 3)) for k in range(3)])
    net = Ensemble([2, 8, 1], "relu", 3, rng=np.random.default_rng(4))
    module, ours = to_torch(net.copy()), net.copy()
    steppers = (
        EnsembleStepper(ours, X, Y, get_loss("mse"), Adam(ours.parameters(), lr=0.005),
                        member_rows),
        TorchStepper(module, X, Y, loss=get_loss("mse"), member_rows=member_rows,
                     optimizer=make_optimizer("adam", module.parameters(), lr=0.005)),
    )  # fmt: skip
    recorders = [Recorder(s) for s in steppers]
    for rec in recorders:
        Trainer(rec, batch_size=8, rng=np.random.default_rng(7)).fit(STEPS // 3)
    assert_same_trajectory(*recorders)
    held = np.stack([np.arange(k, 30, 3) for k in range(3)])
    assert steppers[1].evaluate(X[held], Y[held]) == pytest.approx(
        steppers[0].evaluate(X[held], Y[held]), rel=1e-10
    )


def test_stacked_torch_members_train_as_separate_modules() -> None:
    """The stacked module's summed objective gives each member its own Adam trajectory."""
    X, Y = data(1)
    net = Ensemble([2, 8, 2], "tanh", 3, rng=np.random.default_rng(1))
    stacked = to_torch(net)
    alone = [to_torch(net.member(k)) for k in range(3)]
    steppers = [
        TorchStepper(m, X, Y, loss=get_loss("gaussian_nll"),
                     optimizer=make_optimizer("adam", m.parameters(), lr=0.01))
        for m in (stacked, *alone)
    ]  # fmt: skip
    for _ in range(50):
        values = [s.step(None) for s in steppers]
        assert values[0] == pytest.approx(np.mean(values[1:]), rel=1e-12)
    for k, m in enumerate(alone):
        theirs = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
        mine = np.concatenate([p.detach().numpy()[k].ravel() for p in stacked.parameters()])
        assert_allclose(mine, theirs, rtol=1e-11, atol=1e-13)
