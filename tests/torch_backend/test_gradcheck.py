"""check_gradients: agreement for correct code, a flag for a wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gradfit
from gradfit.engine import MLP
from gradfit.engine.layers import Dense
from gradfit.walkthrough import linear_gradient

pytest.importorskip("torch")
from gradfit.gradcheck import METHODS, random_check, walkthrough_check


@pytest.mark.parametrize("activation", ["identity", "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "sse", "cross_entropy", "binary_cross_entropy"])
def test_correct_gradients_agree(activation: str, loss: str) -> None:
    report = random_check([3, 5, 4, 2], activation, seed=1, loss=loss)
    assert report.ok, str(report)
    for a, b in [("engine", "autograd")]:
        assert max(rel for _, rel in report.errors(a, b)) < 1e-12
    for a in ("engine", "autograd"):
        assert max(rel for _, rel in report.errors(a, "finite differences")) < 1e-6


def test_a_wrong_gradient_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop the factor Xᵀ's last row from dW: the engine disagrees, autograd and FD don't."""
    backward = Dense.backward

    def wrong(self: Dense, G: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        dX = backward(self, G, out)
        self.dW[:, -1] *= 1.01
        return dX

    monkeypatch.setattr(Dense, "backward", wrong)
    report = random_check([2, 4, 1], "tanh", seed=0)
    assert not report.ok
    flagged = {(a, b) for _, a, b in report.mismatches()}
    assert flagged == {("engine", "autograd"), ("engine", "finite differences")}
    assert {name for name, _, _ in report.mismatches()} == {"W1", "W2"}
    assert "MISMATCH" in str(report) and "W1 (engine vs autograd)" in str(report)


def test_the_walkthroughs_check_reproduces_its_formula() -> None:
    """One linear layer, random 2-vectors x and w, scalar y: -2 xᵀ(y - xᵀw) from three methods."""
    report = walkthrough_check(seed=0)
    assert report.ok
    rng = np.random.default_rng(0)
    x, w, y = rng.normal(size=(1, 2)), rng.normal(size=(1, 2)), rng.normal(size=(1, 1))
    expected = linear_gradient(x, y[:, 0], w[0])
    for method in METHODS:
        assert_allclose(report.gradients[method][0][0], expected, rtol=1e-8)
    assert report.names == ["W1", "b1"]
    assert_allclose(report.loss, ((y - x @ w.T) ** 2).sum())


def test_the_report_prints_a_table() -> None:
    report = random_check([2, 3, 1], "relu", seed=2)
    lines = str(report).splitlines()
    assert lines[0].startswith("Gradient check of MLP([2, 3, 1], activation='relu'")
    assert "engine vs autograd" in lines[1] and "autograd vs finite diff." in lines[1]
    assert [line.split()[:2] for line in lines[3:7]] == [
        ["W1", "(3,"],
        ["b1", "(3,)"],
        ["W2", "(1,"],
        ["b2", "(1,)"],
    ]
    assert lines[-1].startswith("OK: all three agree")


def test_check_gradients_does_not_change_the_network() -> None:
    net = MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0), dtype=np.float32)
    before = [p.copy() for p in net.parameters()]
    rng = np.random.default_rng(1)
    report = gradfit.check_gradients(net, rng.normal(size=(5, 2)), rng.normal(size=5))
    assert report.ok
    for p, q in zip(before, net.parameters(), strict=True):
        assert q.dtype == np.float32
        np.testing.assert_array_equal(q, p)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_the_gaussian_head_agrees(activation: str) -> None:
    report = random_check([3, 6, 4], activation, seed=4, loss="gaussian_nll")
    assert report.ok, str(report)
    assert "gaussian_nll over 8 samples" in str(report)
