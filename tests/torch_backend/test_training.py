"""torch_backend.train and TorchStepper: the engine's loop, history, logs and checkpoints."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit import engine
from gradfit.engine import MLP, SGD, Adam, NumpyStepper, get_loss
from gradfit.errors import DivergenceError, MissingDependencyError

torch = pytest.importorskip("torch")
from gradfit.torch_backend import TorchStepper, make_optimizer, to_torch, train  # noqa: E402


def linear_sample(n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 1))
    return x, 2 * x + 0.5 + rng.normal(0, 0.3, size=(n, 1))


def test_the_walkthroughs_hand_written_update_is_gradient_descent_in_closed_form() -> None:
    """nn.Linear(1, 1), p -= lr · p.grad on the sum of squares: w ← w - lr · 2 Xᵀ(Xw - y)."""
    x, y = linear_sample()
    layer = torch.nn.Linear(1, 1, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.fill_(1.0)
    lines: list[str] = []
    history = train(
        layer,
        x,
        y,
        optimizer="manual",
        lr=1e-3,
        epochs=20,
        loss="sse",
        log_every=10,
        log=lines.append,
    )
    X = np.hstack([np.ones_like(x), x])
    w = np.array([1.0, 1.0])  # [b, a]
    for i in range(20):
        r = X @ w - y[:, 0]
        assert_allclose(history.loss[i], r @ r, rtol=1e-12)
        w = w - 1e-3 * 2 * X.T @ r
    assert_allclose([layer.bias.item(), layer.weight.item()], w, rtol=1e-12)
    assert lines == [
        f"Epoch:   10  Loss: {history.loss[9]:.6g} (sum of squared errors)",
        f"Epoch:   20  Loss: {history.loss[19]:.6g} (sum of squared errors)",
    ]


def test_hand_written_update_zeroes_the_gradients() -> None:
    layer = torch.nn.Linear(2, 1, dtype=torch.float64)
    layer(torch.ones(3, 2, dtype=torch.float64)).sum().backward()
    make_optimizer("manual", layer.parameters(), lr=0.1).step()
    assert all(torch.count_nonzero(p.grad) == 0 for p in layer.parameters())


def test_train_mirrors_the_engine_history_logs_and_net() -> None:
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    Xv, Yv = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    net = MLP([3, 8, 2], "tanh", rng=np.random.default_rng(2))
    twin = net.copy()
    kw = {
        "epochs": 30,
        "batch_size": 16,
        "validation": (Xv, Yv),
        "record_parameters": True,
        "log_every": 10,
    }
    logs: tuple[list[str], list[str]] = ([], [])
    h_np = engine.train(
        net,
        X,
        Y,
        optimizer=Adam(net.parameters(), lr=0.01),
        rng=np.random.default_rng(3),
        log=logs[0].append,
        **kw,
    )
    h_t = train(
        twin,
        X,
        Y,
        optimizer="adam",
        lr=0.01,
        rng=np.random.default_rng(3),
        log=logs[1].append,
        **kw,
    )
    assert_allclose(h_t.loss, h_np.loss, rtol=1e-12)
    assert_allclose(h_t.val_loss, h_np.val_loss, rtol=1e-12)
    assert h_t.parameters is not None and h_np.parameters is not None
    assert len(h_t.parameters) == 31
    for a, b in zip(h_np.parameters[-1], h_t.parameters[-1], strict=True):
        assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    for a, b in zip(net.parameters(), twin.parameters(), strict=True):  # twin trained in place
        assert_allclose(b, a, rtol=1e-12, atol=1e-14)
    assert [line[:14] for line in logs[1]] == ["Epoch:   10  L", "Epoch:   20  L", "Epoch:   30  L"]
    assert len(logs[1]) == len(logs[0])


def test_the_walkthroughs_adam_network_is_one_call() -> None:
    """1-64-1 ReLU, Adam lr 0.1, MSE, 100 full-batch epochs on 20 sine points."""
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-5, 5, size=20))
    y = 4 * np.sin(x) + rng.normal(0, 1, size=20)
    net = MLP([1, 64, 1], "relu", rng=np.random.default_rng(1))
    history = train(net, x, y, optimizer="adam", lr=0.1, epochs=100, log_every=None)
    assert history.epochs == 100
    assert history.loss[-1] < 0.25 * history.loss[0]


def test_divergence_keeps_the_last_finite_parameters() -> None:
    x, y = linear_sample()
    net = MLP([1, 1], "identity", rng=np.random.default_rng(0))
    with pytest.raises(DivergenceError) as caught:
        train(net, x * 1e3, y, optimizer="sgd", lr=10.0, epochs=500, loss="sse")
    assert all(np.isfinite(p).all() for p in net.parameters())
    # Caught while the loss explodes, finite (issue 13): possibly before any epoch is kept.
    assert caught.value.epoch >= 0


@pytest.mark.parametrize(
    ("name", "hyper"), [("sgd", {"momentum": 0.9}), ("adam", {"betas": (0.8, 0.99)})]
)
def test_a_checkpoint_resumes_in_the_other_backend(name: str, hyper: dict) -> None:  # type: ignore[type-arg]
    """Parameters + optimizer state saved by one backend continue identically in the other."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    net = MLP([2, 5, 1], "sigmoid", rng=np.random.default_rng(5))
    engine_cls = {"sgd": SGD, "adam": Adam}[name]

    def numpy_stepper(n: MLP) -> NumpyStepper:
        return NumpyStepper(n, X, Y, get_loss("mse"), engine_cls(n.parameters(), lr=0.05, **hyper))

    def torch_stepper(n: MLP) -> TorchStepper:
        module = to_torch(n)
        opt = make_optimizer(name, module.parameters(), lr=0.05, **hyper)
        return TorchStepper(module, X, Y, loss=get_loss("mse"), optimizer=opt)

    for first, second in [(numpy_stepper, torch_stepper), (torch_stepper, numpy_stepper)]:
        reference = numpy_stepper(net.copy())
        before = first(net.copy())
        for _ in range(7):
            reference.step(None)
            before.step(None)
        state = before.optimizer_state()
        assert state["t"] == 7 and state.keys() == reference.optimizer_state().keys()
        after = second(net.copy())
        after.set_parameters(before.get_parameters())
        after.load_optimizer_state(state)
        for _ in range(7):
            assert_allclose(after.step(None), reference.step(None), rtol=1e-12)
        for a, b in zip(reference.get_parameters(), after.get_parameters(), strict=True):
            assert_allclose(b, a, rtol=1e-12, atol=1e-15)


def test_optimizer_state_before_the_first_step_matches_the_engines() -> None:
    net = MLP([2, 3, 1], "relu", rng=np.random.default_rng(0))
    module = to_torch(net)
    stepper = TorchStepper(
        module,
        np.zeros((4, 2)),
        np.zeros((4, 1)),
        loss=get_loss("mse"),
        optimizer=make_optimizer("sgd", module.parameters(), momentum=0.5),
    )
    ours, theirs = stepper.optimizer_state(), SGD(net.parameters(), momentum=0.5).state_dict()
    assert ours["t"] == theirs["t"] == 0
    for a, b in zip(ours["state"], theirs["state"], strict=True):
        assert a.keys() == b.keys() == {"b"}
        assert_allclose(a["b"], b["b"])


def test_make_optimizer_names_what_is_wrong() -> None:
    params = torch.nn.Linear(1, 1).parameters()
    with pytest.raises(
        ValueError, match="unknown optimizer 'rmsprop'; choose one of: manual, sgd, adam"
    ):
        make_optimizer("rmsprop", params)
    with pytest.raises(ValueError, match="got unknown betas"):
        make_optimizer("sgd", params, lr=0.1, betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="nesterov momentum requires"):
        make_optimizer("sgd", params, lr=0.1, nesterov=True)


def test_train_refuses_an_optimizer_over_other_parameters() -> None:
    x, y = linear_sample()
    net = MLP([1, 1], "identity", rng=np.random.default_rng(0))
    stranger = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="not built over this model's parameters"):
        train(net, x, y, optimizer=stranger, epochs=1)


def test_train_accepts_a_torch_optimizer_factory_and_float32() -> None:
    x, y = linear_sample()
    layer = torch.nn.Linear(1, 1)  # float32, torch's default
    history = train(layer, x, y, optimizer=lambda ps: torch.optim.SGD(ps, lr=0.05), epochs=50)
    assert history.loss[-1] < history.loss[0]
    assert abs(layer.weight.item() - 2) < 0.1


def test_mismatched_targets_are_a_data_error() -> None:
    from gradfit.errors import DataError

    x, _ = linear_sample()
    net = MLP([1, 2], "identity", rng=np.random.default_rng(0))
    with pytest.raises(DataError, match="reshape the targets"):
        train(net, x, np.zeros((50, 1)), optimizer="sgd", epochs=1)


def test_import_gradfit_does_not_import_torch() -> None:
    code = (
        "import sys, gradfit; assert 'torch' not in sys.modules; "
        "gradfit.torch_backend; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_torch_the_backend_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    for name in [m for m in sys.modules if m.startswith("gradfit.torch_backend")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(MissingDependencyError, match=r"pip install 'gradfit\[torch\]'"):
        importlib.import_module("gradfit.torch_backend")
    import gradfit

    with pytest.raises(MissingDependencyError, match="torch is not installed"):
        gradfit.check_gradients(
            MLP([1, 1], "identity", rng=np.random.default_rng(0)), [[1.0]], [1.0]
        )
