"""Small seeded training runs on either backend, built fresh as a new process would."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from gradfit.engine.losses import MSE
from gradfit.engine.network import MLP
from gradfit.engine.numpy_stepper import NumpyStepper
from gradfit.engine.optim import SGD, Adam
from gradfit.engine.training import Trainer


def sine(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 1))
    return X, 4 * np.sin(X) + rng.normal(scale=0.5, size=(n, 1))


class BestLoss:
    """A callback with state: the lowest loss so far and epochs since it improved."""

    def __init__(self) -> None:
        self.best, self.since = float("inf"), 0

    def __call__(self, trainer: Trainer) -> None:
        loss = trainer.history.loss[-1]
        self.best, self.since = (loss, 0) if loss < self.best else (self.best, self.since + 1)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "since": self.since}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.since = float(state["best"]), int(state["since"])


def make_trainer(
    backend: str,
    *,
    batch_size: int | None,
    init_seed: int = 1,
    rng_seed: int = 2,
    optimizer: str = "adam",
    lr: float = 0.01,
    callbacks: Sequence[Callable[[Trainer], None]] = (),
) -> Trainer:
    """A trainer of ``MLP([1, 8, 1], "tanh")`` on the sine data, with validation data,
    parameter recording and a :class:`BestLoss` first among its callbacks."""
    X, Y = sine()
    net = MLP([1, 8, 1], "tanh", rng=np.random.default_rng(init_seed))
    hyper: dict[str, Any] = {"lr": lr} if optimizer == "adam" else {"lr": lr, "momentum": 0.9}
    stepper: Any
    if backend == "numpy":
        opt = (Adam if optimizer == "adam" else SGD)(net.parameters(), **hyper)
        stepper = NumpyStepper(net, X, Y, MSE(), opt)
    else:
        from gradfit.torch_backend import TorchStepper, make_optimizer, to_torch

        module = to_torch(net)
        opt = make_optimizer(optimizer, module.parameters(), **hyper)
        stepper = TorchStepper(module, X, Y, loss=MSE(), optimizer=opt)
    Xv, Yv = sine(10, seed=9)
    return Trainer(
        stepper,
        batch_size=batch_size,
        shuffle=True,
        rng=np.random.default_rng(rng_seed),
        validation=(Xv, Yv),
        record_parameters=True,
        log=lambda line: None,
        callbacks=[BestLoss(), *callbacks],
    )


def assert_same_run(a: Trainer, b: Trainer) -> None:
    """Bitwise the same parameters, optimizer state, history, generator and callbacks."""
    assert_same_state(a.state_dict(), b.state_dict())


def assert_same_state(sa: dict[str, Any], sb: dict[str, Any]) -> None:
    """Two ``Trainer.state_dict()`` are bitwise equal."""
    assert sa["epoch"] == sb["epoch"]
    assert sa["history"]["loss"] == sb["history"]["loss"]
    assert sa["history"]["val_loss"] == sb["history"]["val_loss"]
    for pa, pb in zip(sa["history"]["parameters"], sb["history"]["parameters"], strict=True):
        _equal(pa, pb)
    _equal(sa["parameters"], sb["parameters"])
    assert sa["optimizer"]["t"] == sb["optimizer"]["t"]
    for ea, eb in zip(sa["optimizer"]["state"], sb["optimizer"]["state"], strict=True):
        assert ea.keys() == eb.keys()
        _equal(list(ea.values()), list(eb.values()))
    assert sa["rng"] == sb["rng"]
    assert sa["callbacks"] == sb["callbacks"]


def _equal(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> None:
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y, strict=True)


@contextmanager
def torch_single_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
