"""The cross-entropy losses: the engine and torch's ``CrossEntropyLoss`` /
``BCEWithLogitsLoss`` agree at every one of 1000 steps, in float64.

The same harness and tolerances as the squared errors (see ``test_parity``): both
backends start from one set of parameters, see the same batches, and their parameters
and losses are compared after every step.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gradfit.engine import MLP
from gradfit.engine.losses import BinaryCrossEntropy, CrossEntropy

from .test_parity import N_SAMPLES, OPTIMIZERS, STEPS, assert_same_trajectory, run_both

PROBLEMS = {
    "multiclass": (CrossEntropy(), 3),
    "multiclass-weighted": (CrossEntropy([0.5, 2.0, 1.5]), 3),
    "binary": (BinaryCrossEntropy(), 1),
    "binary-weighted": (BinaryCrossEntropy([0.4, 2.5]), 1),
    "multilabel": (BinaryCrossEntropy(), 2),
}
CASES = [
    pytest.param(problem, opt, batch, id=f"{problem}-{opt}-{batch}")
    for (i, problem), opt in itertools.product(
        enumerate(PROBLEMS), ("sgd", "momentum", "nesterov", "adam", "adam-tuned")
    )
    for batch in ("full", "minibatch")
    if (batch == "full") == (i % 2 == 0) or opt in ("momentum", "adam")
]


def labelled(n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets the network can nearly but not quite separate: noisy regions of the plane."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(N_SAMPLES, 2))
    noisy = X + rng.normal(0, 0.5, size=X.shape)
    if n_out == 3:
        classes = np.digitize(np.arctan2(noisy[:, 1], noisy[:, 0]), [-1.0, 1.5])
        return X, np.eye(3)[classes]
    labels = np.column_stack([noisy[:, 0] * noisy[:, 1] > 0, noisy[:, 0] > 0.3])
    return X, labels[:, :n_out].astype(np.float64)


@pytest.mark.parametrize(("problem", "opt", "batch"), CASES)
def test_engine_and_torch_agree_at_every_step(problem: str, opt: str, batch: str) -> None:
    loss, n_out = PROBLEMS[problem]
    X, Y = labelled(n_out)
    net = MLP([2, 8, 8, n_out], "tanh", rng=np.random.default_rng(42))
    engine, torch_run = run_both(net, X, Y, OPTIMIZERS[opt], batch, loss=loss)
    assert len(engine.params) == STEPS
    assert_same_trajectory(engine, torch_run)
    assert engine.losses[-1] < 0.7 * engine.losses[0]


def test_a_wrong_loss_is_far_above_the_tolerance() -> None:
    """The comparison can fail: softmax against sigmoid on the same one-hot targets."""
    X, Y = labelled(3)
    net = MLP([2, 8, 3], "tanh", rng=np.random.default_rng(1))
    engine, _ = run_both(net, X, Y, OPTIMIZERS["sgd"], "full", loss=CrossEntropy())
    _, other = run_both(net, X, Y, OPTIMIZERS["sgd"], "full", loss=BinaryCrossEntropy())
    with pytest.raises(AssertionError, match="parameters part at step 1 of"):
        assert_same_trajectory(engine, other)


@pytest.mark.parametrize(
    "loss",
    [CrossEntropy(), CrossEntropy([1.0, 2.5, 0.5]), BinaryCrossEntropy(),
     BinaryCrossEntropy([1.0, 3.0])],
    ids=repr,
)  # fmt: skip
def test_the_summed_forms_are_torchs_sum_reduction(loss: CrossEntropy | BinaryCrossEntropy) -> None:
    """What a piece of a data-parallel batch adds up, in torch and in the engine."""
    torch = pytest.importorskip("torch")
    from gradfit.torch_backend.losses import torch_loss

    rng = np.random.default_rng(3)
    Z = rng.normal(size=(7, 3 if isinstance(loss, CrossEntropy) else 2)) * 3
    Y = np.eye(3)[rng.integers(0, 3, 7)] if isinstance(loss, CrossEntropy) else (
        rng.integers(0, 2, Z.shape).astype(float))  # fmt: skip
    for form in (loss, loss.summed()):
        ours = form.value(Z, Y)
        theirs = torch_loss(form, dtype=torch.float64, device=torch.device("cpu"))(
            torch.from_numpy(Z), torch.from_numpy(Y)
        )
        assert float(theirs) == pytest.approx(ours, rel=1e-13)
    # A mean over rows (softmax) or over every label (sigmoid), summed.
    terms = Z.shape[0] if isinstance(loss, CrossEntropy) else Z.size
    assert loss.summed().value(Z, Y) == pytest.approx(terms * loss.value(Z, Y), rel=1e-13)
