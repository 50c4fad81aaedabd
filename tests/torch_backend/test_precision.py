"""bf16 mixed precision: bfloat16 products under autocast, float32 weights, optimizer and loss."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit.engine import MLP

torch = pytest.importorskip("torch")
from gradfit.engine import get_loss  # noqa: E402
from gradfit.estimator import MLPRegressor  # noqa: E402
from gradfit.torch_backend import TorchStepper, make_optimizer, to_torch, train  # noqa: E402


def problem(n: int = 512) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(n, 3)).astype(np.float32)
    Y = (np.sin(X[:, :1] * 2) + X[:, 1:2] * X[:, 2:3]).astype(np.float32)
    return X, Y


def test_bf16_mixed_steps_in_bfloat16_and_keeps_float32_everything_else() -> None:
    X, Y = problem(64)
    net = MLP([3, 32, 1], "relu", rng=np.random.default_rng(1), dtype=np.float32)
    module = to_torch(net)
    adam = make_optimizer("adam", module.parameters(), lr=1e-3)
    stepper = TorchStepper(module, X, Y, loss=get_loss("mse"), optimizer=adam,
                           precision="bf16-mixed")  # fmt: skip
    seen: list[torch.dtype] = []
    module[0].register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    loss = stepper.step(None)
    assert seen == [torch.bfloat16]  # the first product ran in bfloat16
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in stepper.params)
    state = adam.state[stepper.params[0]]
    assert state["exp_avg"].dtype == torch.float32
    # The loss is the float32 MSE of bfloat16 predictions: near full precision's, not equal.
    full = get_loss("mse").value(net.forward(X), Y)
    assert loss == pytest.approx(full, rel=2e-2)
    assert loss != full


def test_bf16_mixed_training_reaches_float32s_accuracy() -> None:
    X, Y = problem()
    held_X, held_Y = problem(2048)
    mse = {}
    for precision in ("full", "bf16-mixed"):
        net = MLP([3, 64, 64, 1], "relu", rng=np.random.default_rng(2), dtype=np.float32)
        h = train(net, X, Y, optimizer="adam", lr=3e-3, epochs=60, batch_size=64,
                  rng=np.random.default_rng(0), precision=precision)  # fmt: skip
        assert h.loss[-1] < 0.2 * h.loss[0]
        mse[precision] = get_loss("mse").value(net.forward(held_X), held_Y)
    assert_allclose(mse["bf16-mixed"], mse["full"], rtol=0.25)


def test_bf16_mixed_refuses_float64_and_unknown_names() -> None:
    X, Y = problem(16)
    net = MLP([3, 4, 1], "relu", rng=np.random.default_rng(0))
    with pytest.raises(
        ValueError, match="keeps float32 master weights; the parameters are float64"
    ):
        train(net, X.astype(np.float64), Y.astype(np.float64), optimizer="adam", epochs=1,
              precision="bf16-mixed")  # fmt: skip
    with pytest.raises(ValueError, match="precision must be one of full, bf16-mixed; got 'bf16'"):
        train(net, X, Y, optimizer="adam", epochs=1, precision="bf16")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_estimator_trains_in_bf16_mixed_and_checks_its_settings() -> None:
    X, Y = problem(256)
    scores = {}
    for precision in ("full", "bf16-mixed"):
        est = MLPRegressor((32,), backend="torch", dtype="float32", precision=precision,
                           max_iter=60, random_state=0)  # fmt: skip
        scores[precision] = est.fit(X, Y.ravel()).score(X, Y.ravel())
        assert est.net_.dtype == np.float32
    assert scores["full"] > 0.3
    assert scores["bf16-mixed"] == pytest.approx(scores["full"], abs=0.05)
    with pytest.raises(ValueError, match="precision='bf16-mixed' needs backend='torch'"):
        MLPRegressor(precision="bf16-mixed", dtype="float32").fit(X, Y.ravel())
    with pytest.raises(ValueError, match="needs dtype='float32'; got 'float64'"):
        MLPRegressor(precision="bf16-mixed", backend="torch").fit(X, Y.ravel())
