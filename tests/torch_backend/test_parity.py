"""The engine and the torch backend agree at every step for 1000 steps, in float64.

Both start from the same parameters and are driven by the engine's ``Trainer`` with
the same seed, so they see the same batches. Torch's kernels sum in another order,
so the bits differ; a formula mistake shows far above ``rtol=1e-10``. Parameters get
``atol=1e-12`` as well, because a weight that crosses zero has no relative precision
(the parameters here are of order 0.1–1, so 1e-12 is 1e-11–1e-12 of their size).

Why the Adam settings are what they are: full-batch Adam that has reached a minimum
keeps stepping with ``lr · m / √v̂``; as ``v`` decays the effective step grows until
the minimum turns unstable and any rounding difference doubles every step. With
``betas=(0.8, 0.99)`` that happened after ~600–900 steps here, in the engine alone too
(a 1-ulp nudge of its own parameters grew to 1e-4 within 50 steps). ``β₂ ≥ 0.999``
and ``lr=0.005`` keep every configuration below that edge for 1000 steps.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit.engine import MLP, SGD, Adam, Loss, NumpyStepper, Trainer, get_loss
from gradfit.engine.batches import Rows
from gradfit.engine.stepper import EngineStepper

torch = pytest.importorskip("torch")
from gradfit.torch_backend import TorchStepper, make_optimizer, to_torch  # noqa: E402

STEPS = 1000
N_SAMPLES, BATCH = 30, 8  # minibatches of 8, 8, 8, 6: 250 epochs make 1000 steps

ARCHITECTURES = [([2, 2], "identity")] + [
    ([2, *[6] * hidden, 2], activation)
    for hidden in (1, 2)
    for activation in ("identity", "relu", "tanh", "sigmoid")
]
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "manual": ("manual", {"lr": 0.05}),
    "sgd": ("sgd", {"lr": 0.05}),
    "momentum": ("sgd", {"lr": 0.02, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-3}),
    "nesterov": ("sgd", {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    "adam": ("adam", {"lr": 0.005}),
    "adam-tuned": (
        "adam",
        {"lr": 0.005, "betas": (0.8, 0.9995), "eps": 1e-7, "weight_decay": 1e-2},
    ),
}
ENGINE_OPTIMIZERS = {"manual": SGD, "sgd": SGD, "adam": Adam}

# Every (architecture, optimizer) pair once; full batch and minibatch alternate, so each
# architecture and each optimizer is run both ways.
CASES = [
    pytest.param(sizes, activation, opt, batch, id=f"{len(sizes) - 1}-{activation}-{opt}-{batch}")
    for (i, (sizes, activation)), (j, opt) in itertools.product(
        enumerate(ARCHITECTURES), enumerate(OPTIMIZERS)
    )
    for batch in ["full" if (i + j) % 2 == 0 else "minibatch"]
]
KERNEL_CASES = [c for c in CASES if c.values[1] in ("identity", "relu")]
"""The cases the compiled kernel covers (identity and ReLU), run again with it."""


def kernel_stepper(*args: Any) -> EngineStepper:
    pytest.importorskip("numba")
    from gradfit.engine.kernel.stepper import KernelStepper

    return KernelStepper(*args)


class Recorder:
    """A Stepper that passes everything through and records each step."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.loss, self.n_samples = inner, inner.loss, inner.n_samples
        self.losses: list[float] = []
        self.params: list[np.ndarray] = []
        self.rows: list[Any] = []

    def step(self, rows: Rows) -> float:
        loss = self.inner.step(rows)
        self.losses.append(loss)
        self.params.append(np.concatenate([p.ravel() for p in self.inner.get_parameters()]))
        self.rows.append(None if rows is None else np.arange(self.n_samples)[rows])
        return loss

    def __getattr__(self, name: str) -> Any:
        if name == "run_epochs":  # every step goes through step(), to be recorded
            raise AttributeError(name)
        return getattr(self.inner, name)


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(N_SAMPLES, 2))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1] ** 2 / 4, np.cos(X[:, 1])])
    return X, Y


def run_both(
    net: MLP,
    X: np.ndarray,
    Y: np.ndarray,
    optimizer: tuple[str, dict[str, Any]],
    batch: str,
    loss: str | Loss = "mse",
    engine_stepper: Any = NumpyStepper,
) -> tuple[Recorder, Recorder]:
    kind, hyper = optimizer
    module = to_torch(net.copy())
    engine_net = net.copy()
    engine_optimizer = ENGINE_OPTIMIZERS[kind](engine_net.parameters(), **hyper)
    torch_optimizer = make_optimizer(kind, module.parameters(), **hyper)
    steppers = (
        engine_stepper(engine_net, X, Y, get_loss(loss), engine_optimizer),
        TorchStepper(module, X, Y, loss=get_loss(loss), optimizer=torch_optimizer),
    )
    batch_size, epochs = (
        (None, STEPS) if batch == "full" else (BATCH, STEPS // -(-N_SAMPLES // BATCH))
    )
    recorders = tuple(Recorder(s) for s in steppers)
    for rec in recorders:
        Trainer(rec, batch_size=batch_size, rng=np.random.default_rng(7)).fit(epochs)
    return recorders


def assert_same_trajectory(ours: Recorder, theirs: Recorder) -> None:
    P, Q = np.array(ours.params), np.array(theirs.params)
    far = ~np.isclose(Q, P, rtol=1e-10, atol=1e-12)
    first = int(np.argmax(far.any(axis=1))) if far.any() else None
    assert first is None, f"parameters part at step {first + 1} of {len(P)}"
    assert_allclose(Q, P, rtol=1e-10, atol=1e-12)
    assert_allclose(theirs.losses, ours.losses, rtol=1e-10)


@pytest.mark.parametrize(("sizes", "activation", "opt", "batch"), CASES)
def test_engine_and_torch_agree_at_every_step(
    sizes: list[int], activation: str, opt: str, batch: str
) -> None:
    check_agreement(sizes, activation, opt, batch, NumpyStepper)


@pytest.mark.parametrize(("sizes", "activation", "opt", "batch"), KERNEL_CASES)
def test_compiled_kernel_and_torch_agree_at_every_step(
    sizes: list[int], activation: str, opt: str, batch: str
) -> None:
    check_agreement(sizes, activation, opt, batch, kernel_stepper)


def check_agreement(sizes: list[int], activation: str, opt: str, batch: str, stepper: Any) -> None:
    X, Y = data()
    net = MLP(sizes, activation, rng=np.random.default_rng(42))
    engine, torch_run = run_both(net, X, Y, OPTIMIZERS[opt], batch, engine_stepper=stepper)
    assert len(engine.params) == STEPS
    for a, b in zip(engine.rows, torch_run.rows, strict=True):
        assert (a is None and b is None) or np.array_equal(a, b)
    assert_same_trajectory(engine, torch_run)
    # The run went somewhere: the parameters moved and the loss fell.
    assert np.abs(engine.params[-1] - engine.params[0]).max() > 1e-2
    assert engine.losses[-1] < 0.9 * engine.losses[0]


def test_sum_of_squares_loss_agrees_too() -> None:
    X, Y = data()
    net = MLP([2, 6, 2], "tanh", rng=np.random.default_rng(3))
    sgd = ("sgd", {"lr": 1e-3, "momentum": 0.5})
    engine, torch_run = run_both(net, X, Y, sgd, "minibatch", loss="sse")
    assert_same_trajectory(engine, torch_run)


@pytest.mark.parametrize("sizes", [[1, 64, 1], [2, 6, 1], [2, 6, 6, 2]])
def test_compiled_training_runs_agree_with_torch(sizes: list[int]) -> None:
    """``engine.train`` with the kernel on runs its full-batch epochs many to a call; the
    1000 epochs end where torch's do (and where the NumPy engine's do)."""
    pytest.importorskip("numba")
    from gradfit.engine import train
    from gradfit.torch_backend import train as torch_train

    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(40, sizes[0]))
    Y = np.sin(X @ np.ones((sizes[0], sizes[-1])))
    start = MLP(sizes, "relu", rng=np.random.default_rng(42))
    ends = {}
    for kernel in ("on", "off"):
        net = start.copy()
        adam = Adam(net.parameters(), lr=0.005)
        history = train(net, X, Y, optimizer=adam, epochs=STEPS, kernel=kernel)
        ends[kernel] = (history.loss, net.flat.copy())
    theirs = start.copy()
    torch_history = torch_train(theirs, X, Y, optimizer="adam", lr=0.005, epochs=STEPS)
    for losses, flat in ends.values():
        assert_allclose(losses, torch_history.loss, rtol=1e-10)
        assert_allclose(flat, theirs.flat, rtol=1e-10, atol=1e-12)
    assert torch_history.loss[-1] < 0.5 * torch_history.loss[0]


class AdamWithoutBiasCorrection(Adam):
    """A plausible mistake: Adam as often first written, with no bias correction."""

    def _step(self, p: np.ndarray, g: np.ndarray, tmp: np.ndarray, state: dict) -> None:
        m, v = state["m"], state["v"]
        m[...] = self.beta1 * m + (1 - self.beta1) * g
        v[...] = self.beta2 * v + (1 - self.beta2) * g * g
        p -= self.lr * m / (np.sqrt(v) + self.eps)


def test_a_formula_mistake_is_far_above_the_tolerance() -> None:
    """The comparison can fail: it catches Adam without its bias correction at step 1."""
    X, Y = data()
    net = MLP([2, 6, 2], "tanh", rng=np.random.default_rng(42))
    engine_net, module = net.copy(), to_torch(net.copy())
    wrong = AdamWithoutBiasCorrection(engine_net.parameters(), lr=0.005)
    right = make_optimizer("adam", module.parameters(), lr=0.005)
    engine = Recorder(NumpyStepper(engine_net, X, Y, get_loss("mse"), wrong))
    torch_run = Recorder(TorchStepper(module, X, Y, loss=get_loss("mse"), optimizer=right))
    for rec in (engine, torch_run):
        Trainer(rec, rng=np.random.default_rng(7)).fit(5)
    with pytest.raises(AssertionError, match="parameters part at step 1 of 5"):
        assert_same_trajectory(engine, torch_run)
