"""The training loop: epoch losses, minibatches, seeded shuffling, logging, divergence."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit import DataError, DivergenceError
from gradfit.engine import MLP, MSE, SGD, SSE, Adam, NumpyStepper, Trainer, log_line, train


def problem(n: int = 10, seed: int = 0) -> tuple[MLP, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1], X[:, 0] * X[:, 1]])
    return MLP([2, 6, 2], "tanh", rng=rng), X, Y


def quiet(_: str) -> None:
    pass


@pytest.mark.parametrize("loss", ["mse", "sse"])
def test_minibatch_epoch_loss_combines_batches_as_the_loss_reduces(loss: str) -> None:
    # With lr = 0 the parameters stay put, so the epoch's loss must equal the loss on all
    # the data: the batch-size-weighted mean of batch means, or the sum of batch sums.
    net, X, Y = problem(n=10)
    whole = (MSE() if loss == "mse" else SSE()).value(net.forward(X), Y)
    h = train(net, X, Y, optimizer=SGD(net.parameters(), lr=0.0), epochs=2, loss=loss,
              batch_size=4, rng=np.random.default_rng(1), log=quiet)  # fmt: skip
    assert_allclose(h.loss, [whole, whole], rtol=1e-14)
    if loss == "mse":  # batches of 4, 4 and 2: a plain mean of the three would differ
        order = np.random.default_rng(1).permutation(10)
        means = [MSE().value(net.forward(X[b]), Y[b]) for b in np.split(order, [4, 8])]
        assert abs(np.mean(means) - whole) > 1e-3 * whole


def test_minibatch_sgd_follows_the_seeded_permutation() -> None:
    net, X, Y = problem(n=10)
    reference = net.copy()
    lr, rng = 0.05, np.random.default_rng(3)
    h = train(net, X, Y, optimizer=SGD(net.parameters(), lr=lr), epochs=2, loss="mse",
              batch_size=4, rng=np.random.default_rng(3), log=quiet)  # fmt: skip

    expected = []
    for _ in range(2):
        epoch_loss = 0.0
        for rows in np.split(rng.permutation(10), [4, 8]):
            Y_hat = reference.forward(X[rows])
            epoch_loss += MSE().value(Y_hat, Y[rows]) * len(rows) / 10
            reference.backward(MSE().gradient(Y_hat, Y[rows]))
            for p, g in zip(reference.parameters(), reference.gradients(), strict=True):
                p -= lr * g
        expected.append(epoch_loss)
    assert_allclose(h.loss, expected, rtol=1e-13)
    for p, q in zip(net.parameters(), reference.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-13)


def test_shuffling_is_reproducible_with_the_same_seed() -> None:
    runs = []
    for seed in (5, 5, 6):
        net, X, Y = problem(n=12)
        h = train(net, X, Y, optimizer=Adam(net.parameters(), lr=0.01), epochs=3,
                  batch_size=5, rng=np.random.default_rng(seed), log=quiet)  # fmt: skip
        runs.append((h.loss, net.parameters()))
    assert runs[0][0] == runs[1][0]
    for p, q in zip(runs[0][1], runs[1][1], strict=True):
        assert_array_equal(p, q)
    assert runs[0][0] != runs[2][0]


def test_batches_cover_every_row_once_per_epoch() -> None:
    net, X, Y = problem(n=11)
    stepper = NumpyStepper(net, X, Y, MSE(), SGD(net.parameters(), lr=0.1))
    trainer = Trainer(stepper, batch_size=4, rng=np.random.default_rng(0))
    batches = list(trainer.batches())
    assert [len(b) for b in batches] == [4, 4, 3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(11))
    in_order = Trainer(stepper, batch_size=4, shuffle=False, rng=np.random.default_rng(0))
    assert list(in_order.batches()) == [slice(0, 4), slice(4, 8), slice(8, 12)]
    assert list(Trainer(stepper, rng=np.random.default_rng(0)).batches()) == [None]


def test_full_batch_loss_i_is_at_parameters_i() -> None:
    net, X, Y = problem()
    h = train(net, X, Y, optimizer=SGD(net.parameters(), lr=0.1, momentum=0.5), epochs=5,
              loss="sse", record_parameters=True, log=quiet)  # fmt: skip
    assert h.parameters is not None
    assert len(h.parameters) == 6
    assert len(h.loss) == h.epochs == 5
    for i, loss in enumerate(h.loss):
        at_i = MLP.from_parameters(net.sizes, net.activation, h.parameters[i])
        assert_allclose(loss, SSE().value(at_i.forward(X), Y), rtol=1e-14)
    for p, q in zip(h.parameters[-1], net.parameters(), strict=True):
        assert_array_equal(p, q)
        assert p is not q


def test_record_parameters_keeps_independent_snapshots() -> None:
    net, X, Y = problem()
    initial = [p.copy() for p in net.parameters()]
    opt = Adam(net.parameters(), lr=0.1)
    h = train(net, X, Y, optimizer=opt, epochs=4, batch_size=3, rng=np.random.default_rng(0),
              record_parameters=True, log=quiet)  # fmt: skip
    assert h.parameters is not None
    assert len(h.parameters) == 5
    for p, q in zip(h.parameters[0], initial, strict=True):
        assert_array_equal(p, q)
    assert not np.array_equal(h.parameters[1][0], h.parameters[2][0])
    assert train(net, X, Y, optimizer=SGD(net.parameters()), epochs=1, log=quiet).parameters is None


def test_log_lines_every_k_epochs_name_the_loss() -> None:
    net, X, Y = problem()
    lines: list[str] = []
    h = train(net, X, Y, optimizer=SGD(net.parameters(), lr=0.05), epochs=30, log_every=10,
              log=lines.append)  # fmt: skip
    assert len(lines) == 3
    for epoch, line in zip((10, 20, 30), lines, strict=True):
        match = re.fullmatch(r"Epoch: +(\d+)  Loss: (\S+) \(mean squared error\)", line)
        assert match is not None, line
        assert int(match[1]) == epoch
        assert_allclose(float(match[2]), h.loss[epoch - 1], rtol=1e-5)
    assert lines[0].startswith("Epoch:   10  Loss: ")
    assert log_line(200, 3.14159265, "sse") == "Epoch:  200  Loss: 3.14159 (sum of squared errors)"


@pytest.mark.parametrize("batch_size", [None, 3], ids=["full-batch", "minibatch"])
def test_divergence_raises_and_keeps_the_last_finite_parameters(batch_size: int | None) -> None:
    net, X, Y = problem()
    stepper = NumpyStepper(net, X, Y * 1e3, SSE(), SGD(net.parameters(), lr=1e4))
    trainer = Trainer(stepper, batch_size=batch_size, rng=np.random.default_rng(0),
                      record_parameters=True, log=quiet)  # fmt: skip
    with pytest.raises(DivergenceError, match=r"diverged in epoch \d+.*lower learning rate") as e:
        trainer.fit(200)
    h = trainer.history
    assert h.parameters is not None
    # A loss that explodes is caught while finite (issue 13), possibly before any epoch.
    assert 0 <= e.value.epoch == h.epochs == len(h.parameters) - 1 < 200
    assert all(np.isfinite(h.loss))
    for p, q in zip(net.parameters(), h.parameters[-1], strict=True):
        assert np.isfinite(p).all()
        assert_array_equal(p, q)
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isfinite(SSE().value(net.forward(X), Y * 1e3))  # the kept model still predicts


def test_validation_loss_is_at_the_end_of_each_epoch() -> None:
    net, X, Y = problem()
    X_val, Y_val = X[:4] + 0.1, Y[:4]
    h = train(net, X, Y, optimizer=SGD(net.parameters(), lr=0.1), epochs=3,
              validation=(X_val, Y_val), record_parameters=True, log=quiet)  # fmt: skip
    assert h.parameters is not None
    for i, val in enumerate(h.val_loss):
        after = MLP.from_parameters(net.sizes, net.activation, h.parameters[i + 1])
        assert_allclose(val, MSE().value(after.forward(X_val), Y_val), rtol=1e-14)


def test_a_callback_can_stop_training() -> None:
    net, X, Y = problem()

    def stop_at_3(trainer: Trainer) -> None:
        trainer.stop = trainer.epoch >= 3

    h = train(net, X, Y, optimizer=SGD(net.parameters()), epochs=50, callbacks=[stop_at_3],
              log=quiet)  # fmt: skip
    assert h.epochs == 3


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_float32_training_end_to_end(optimizer: str) -> None:
    net = MLP([1, 16, 1], "tanh", rng=np.random.default_rng(0), dtype=np.float32)
    X = np.linspace(-2, 2, 40).reshape(-1, 1)  # float64 input: train converts it
    Y = np.sin(2 * X)
    params = net.parameters()
    opt = Adam(params, lr=0.02) if optimizer == "adam" else SGD(params, lr=0.01, momentum=0.9)
    h = train(net, X, Y, optimizer=opt, epochs=100, batch_size=8, rng=np.random.default_rng(1),
              record_parameters=True, log=quiet)  # fmt: skip
    assert h.loss[-1] < 0.2 * h.loss[0]
    assert h.parameters is not None
    assert {p.dtype for snap in h.parameters for p in snap} == {np.dtype("f4")}
    assert {p.dtype for p in net.parameters()} == {np.dtype("f4")}
    assert all(s["b" if optimizer == "sgd" else "m"].dtype == np.float32 for s in opt.state)
    assert net.forward(X.astype(np.float32)).dtype == np.float32


def test_train_checks_its_data() -> None:
    net, X, Y = problem()
    opt = SGD(net.parameters())
    with pytest.raises(DataError, match="X has 3 feature"):
        train(net, np.zeros((10, 3)), Y, optimizer=opt, epochs=1)
    with pytest.raises(DataError, match="X has 10 rows but y has 9"):
        train(net, X, Y[:9], optimizer=opt, epochs=1)
    with pytest.raises(ValueError, match="net has 2 outputs but Y has 1 column"):
        train(net, X, Y[:, 0], optimizer=opt, epochs=1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        train(net, X, Y, optimizer=opt, epochs=1, batch_size=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        # epochs=-1 never ended (the run loop counts down to zero); 2.5 neither.
        ({"epochs": -1}, ValueError, "epochs must be a whole number >= 0, got -1"),
        ({"epochs": 2.5}, ValueError, "epochs must be a whole number >= 0, got 2.5"),
        ({"epochs": "3"}, ValueError, "epochs must be a whole number >= 0, got '3'"),
        ({"batch_size": "full"}, ValueError,
         "batch_size must be a positive integer or None, got 'full'"),
        ({"log_every": -1}, ValueError, "log_every must be a positive integer or None, got -1"),
        ({"optimizer": "adam"}, TypeError, "optimizer must be a gradfit.engine optimizer"),
        ({"optimizer": None}, TypeError, "optimizer must be a gradfit.engine optimizer"),
    ],
)  # fmt: skip
def test_train_refuses_arguments_it_cannot_run(
    kwargs: dict, error: type[Exception], message: str
) -> None:
    net, X, Y = problem()
    before = net.flat.copy()
    with pytest.raises(error, match=re.escape(message)):
        train(net, X, Y, **{"optimizer": SGD(net.parameters()), "epochs": 1, **kwargs})
    assert_array_equal(net.flat, before)


def test_train_refuses_an_optimizer_of_another_networks_parameters() -> None:
    # It returned normally and never updated net.
    net, X, Y = problem()
    other, _, _ = problem()
    with pytest.raises(ValueError, match="optimizer was built over other arrays than net's"):
        train(net, X, Y, optimizer=Adam(other.parameters()), epochs=1)
    history = train(net, X, Y, optimizer=Adam(net.parameters()), epochs=np.int64(2))
    assert len(history.loss) == 2  # NumPy's integers are whole numbers


@pytest.mark.parametrize(
    ("sizes", "activation"),
    [
        ([2, 6, 2], "tanh"),  # two outputs: dL/dZ₁ formed
        ([1, 8, 1], "relu"),  # one hidden layer, one output: the rank-one path
        ([5, 2, 1], "sigmoid"),  # rank one with [X 1] wider than the hidden layer
        ([3, 4, 1], "identity"),
        ([2, 5, 4, 1], "relu"),  # deep
        ([3, 1], "identity"),  # one linear layer
    ],
)
@pytest.mark.parametrize("rows", [None, slice(2, 9), np.array([7, 0, 3, 3, 5])])
def test_the_steppers_gradients_are_backprops(
    sizes: list[int], activation: str, rows: slice | np.ndarray | None
) -> None:
    # NumpyStepper folds b₁ into [X 1], skips dL/dX of the data and, with one hidden
    # layer and one output, never forms dL/dZ₁; the gradients must be MLP.backward's.
    rng = np.random.default_rng(3)
    net = MLP(sizes, activation, rng=rng)
    X, Y = rng.normal(size=(10, sizes[0])), rng.normal(size=(10, sizes[-1]))
    twin = net.copy()
    stepper = NumpyStepper(net, X, Y, MSE(), SGD(net.parameters(), lr=0.0))
    for _ in range(2):  # the second step reuses the workspace
        loss = stepper.step(rows)
    batch = slice(None) if rows is None else rows
    Y_hat = twin.forward(X[batch])
    assert loss == pytest.approx(MSE().value(Y_hat, Y[batch]), rel=1e-13)
    twin.backward(MSE().gradient(Y_hat, Y[batch]))
    for g, h in zip(net.gradients(), twin.gradients(), strict=True):
        assert_allclose(g, h, rtol=1e-12, atol=1e-15)
    assert_array_equal(net.flat, twin.flat)  # lr = 0


@pytest.mark.parametrize("sizes", [[1, 16, 1], [3, 16, 8, 1]], ids=["rank-one", "deep"])
def test_the_steppers_float32_gradients_are_float64_backprops(sizes: list[int]) -> None:
    rng = np.random.default_rng(4)
    net = MLP(sizes, "relu", rng=rng, dtype=np.float32)
    X, Y = rng.normal(size=(50, sizes[0])), rng.normal(size=(50, 1))
    twin = MLP.from_parameters(sizes, "relu", [p.astype(np.float64) for p in net.parameters()])
    as32 = (X.astype(np.float32), Y.astype(np.float32))
    NumpyStepper(net, *as32, MSE(), SGD(net.parameters(), lr=0.0)).step(None)
    twin.backward(MSE().gradient(twin.forward(X.astype(np.float32).astype(np.float64)), Y))
    assert {g.dtype for g in net.gradients()} == {np.dtype(np.float32)}
    for g, h in zip(net.gradients(), twin.gradients(), strict=True):
        assert_allclose(g, h, rtol=1e-4, atol=1e-6)
