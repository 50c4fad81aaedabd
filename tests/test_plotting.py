"""gradfit.plotting: what each figure draws, checked on the Figure objects."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("matplotlib")

from gradfit import engine, plotting, squared_loss, training_loop
from gradfit.engine.history import History
from gradfit.errors import DataError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def legend_labels(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def line_by_label(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def test_import_gradfit_does_not_import_matplotlib():
    code = (
        "import sys, gradfit, gradfit.plotting, gradfit.demo, gradfit.report; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plot_data_marks_the_training_sample(tmp_path):
    x = np.linspace(-1, 1, 10)
    y = 3 * x
    train = np.array([1, 4, 7])
    fig = plotting.plot_data(x, y, train=train, title="T", path=tmp_path / "d.png")
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x", "y", "T")
    assert legend_labels(ax) == ["not sampled (7)", "training sample (3)"]
    other, sample = ax.collections
    assert_allclose(sample.get_offsets(), np.column_stack([x[train], y[train]]))
    assert len(other.get_offsets()) == 7
    assert (tmp_path / "d.png").read_bytes()[:8] == PNG_MAGIC


def test_plot_data_alone_has_no_legend():
    ax = plotting.plot_data([1, 2, 3], [2, 4, 6]).axes[0]
    assert ax.get_legend() is None
    assert len(ax.collections[0].get_offsets()) == 3


def test_plot_fit_draws_truth_fits_and_points():
    x = np.linspace(0, 1, 5)
    fig = plotting.plot_fit(
        x,
        {"numpy": x.reshape(-1, 1) * 2, "torch": x * 2 + 1e-3},
        truth=x * 2.1,
        observed=([0.2, 0.4], [0.5, 0.7]),
        xlabel="input",
    )
    ax = fig.axes[0]
    assert legend_labels(ax) == ["truth", "numpy", "torch", "observed (2)"]
    assert_allclose(line_by_label(ax, "numpy").get_ydata(), x * 2)
    assert_allclose(line_by_label(ax, "truth").get_ydata(), x * 2.1)
    assert_allclose(ax.collections[0].get_offsets(), [[0.2, 0.5], [0.4, 0.7]])
    assert ax.get_xlabel() == "input"


def test_plot_fit_refuses_predictions_of_the_wrong_length():
    with pytest.raises(DataError, match="fitted has 4 values but x has 5"):
        plotting.plot_fit(np.arange(5), np.arange(4))
    with pytest.raises(DataError, match="1-D or a single column"):
        plotting.plot_fit(np.arange(4), np.ones((4, 2)))


def test_plot_loss_labels_the_loss_and_draws_validation():
    h = History(loss=[4.0, 2.0, 1.0], val_loss=[5.0, 3.0, 2.5], loss_name="mse")
    ax = plotting.plot_loss(h, log_scale=True).axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "mean squared error (log scale)"
    assert legend_labels(ax) == ["training", "validation"]
    assert_allclose(line_by_label(ax, "training").get_xdata(), [1, 2, 3])
    assert_allclose(line_by_label(ax, "validation").get_ydata(), h.val_loss)


def test_plot_loss_of_a_trajectory_is_the_sum_of_squares():
    traj = training_loop([0.0, 1.0, 2.0], [1.0, 3.0, 5.0], [0.0, 0.0], 4, 0.01)
    ax = plotting.plot_loss(traj).axes[0]
    assert ax.get_yscale() == "linear"
    assert ax.get_ylabel() == "sum of squared errors"
    assert ax.get_legend() is None
    assert_allclose(ax.get_lines()[0].get_ydata(), traj.losses)


def test_plot_loss_overlays_runs():
    runs = {"a": History(loss=[3.0, 1.0]), "b": History(loss=[3.0, 1.5])}
    ax = plotting.plot_loss(runs).axes[0]
    assert legend_labels(ax) == ["a: training", "b: training"]


def test_plot_parameters_one_panel_per_array():
    rng = np.random.default_rng(0)
    net = engine.MLP([1, 3, 1], "tanh", rng=rng)
    X = rng.normal(size=(8, 1))
    h = engine.train(
        net,
        X,
        np.sin(X),
        optimizer=engine.SGD(net.parameters(), lr=0.1),
        epochs=5,
        record_parameters=True,
        log_every=None,
    )
    fig = plotting.plot_parameters(h)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["W1", "b1", "W2", "b2"]
    W1 = visible[0]
    assert legend_labels(W1) == ["W1[0]", "W1[1]", "W1[2]"]
    assert_allclose(W1.get_lines()[2].get_ydata(), [p[0][2, 0] for p in h.parameters])
    assert_allclose(visible[3].get_lines()[0].get_xdata(), np.arange(6))
    assert all(ax.get_xlabel() == "epoch" and ax.get_ylabel() == "value" for ax in visible)


def test_plot_parameters_many_values_get_one_panel_without_legend():
    params = [[np.full((20, 1), float(i)), np.zeros(20)] for i in range(3)]
    fig = plotting.plot_parameters(History(loss=[1.0, 1.0], parameters=params))
    assert fig.axes[0].get_title() == "W1 (20 values, one line each)"
    assert fig.axes[0].get_legend() is None
    assert len(fig.axes[0].get_lines()) == 20


def test_plot_parameters_needs_recorded_parameters():
    with pytest.raises(ValueError, match="record_parameters=True"):
        plotting.plot_parameters(History(loss=[1.0]))


def test_line_loss_is_the_sum_of_squared_errors():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=7), rng.normal(size=7)
    w0, w1 = np.array([[0.3, -1.0]]), np.array([[2.0, 0.5]])
    L = plotting.line_loss(w0, w1, x, y)
    assert L.shape == (1, 2)
    assert_allclose(L[0, 1], squared_loss(-1.0 + 0.5 * x, y), rtol=1e-12)
    assert_allclose(plotting.line_loss(w0, w1, x, y, "mse"), L / 7, rtol=1e-12)


def test_descent_path_of_the_engine_equals_the_walkthroughs():
    # One linear layer trained with SGD on the sum of squares is training_loop, step for step.
    rng = np.random.default_rng(2)
    x = rng.normal(size=30)
    y = 2 * x + 1 + rng.normal(size=30)
    traj = training_loop(x, y, [0.5, -0.5], 40, 0.01)
    net = engine.MLP.from_parameters([1, 1], "identity", [np.array([[-0.5]]), np.array([0.5])])
    h = engine.train(
        net,
        x.reshape(-1, 1),
        y.reshape(-1, 1),
        optimizer=engine.SGD(net.parameters(), lr=0.01),
        epochs=40,
        loss="sse",
        record_parameters=True,
        log_every=None,
    )
    assert_allclose(plotting.intercept_slope_path(h), traj.weights, rtol=1e-12)

    fig = plotting.plot_descent(h, x, y)
    ax = fig.axes[0]
    assert_allclose(line_by_label(ax, "gradient descent").get_xydata(), traj.weights)
    best = np.linalg.lstsq(np.column_stack([np.ones(30), x]), y, rcond=None)[0]
    star = next(ln for ln in ax.get_lines() if ln.get_label().startswith("least squares"))
    assert_allclose(star.get_xydata()[0], best)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("intercept w₀", "slope w₁")
    assert len(legend_labels(ax)) == 4
    assert ax.collections, "no contours drawn"
    assert fig.axes[1].get_ylabel() == "sum of squared errors"  # the colour bar


def test_descent_needs_a_two_parameter_model():
    h = History(loss=[1.0], parameters=[[np.ones((2, 1)), np.ones(2)]])
    with pytest.raises(ValueError, match="two parameters"):
        plotting.plot_descent(h, [0.0, 1.0], [0.0, 1.0])


def test_parity_measures_the_largest_parameter_difference():
    a = History(loss=[2.0, 1.0], parameters=[[np.zeros(2), np.zeros(1)]] * 3)
    b = History(
        loss=[2.0, 1.1],
        parameters=[
            [np.zeros(2), np.zeros(1)],
            [np.array([1e-9, -3e-9]), np.array([2e-9])],
            [np.array([0.0, 1e-6]), np.array([-4e-6])],
        ],
    )
    assert_allclose(plotting.max_parameter_difference(a, b), [0.0, 3e-9, 4e-6])
    fig = plotting.plot_parity(a, b)
    loss_ax, diff_ax = fig.axes
    assert legend_labels(loss_ax) == ["NumPy engine", "PyTorch"]
    assert diff_ax.get_yscale() == "log"
    assert_allclose(diff_ax.get_lines()[0].get_ydata(), [3e-9, 4e-6])
    assert diff_ax.get_xlabel() == "epoch"


def test_save_writes_a_png_and_leaves_no_temporary_file(tmp_path):
    fig = plotting.plot_data([0, 1], [1, 0])
    path = plotting.save(fig, tmp_path / "a.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_names_are_drawn_as_written_not_as_mathtext(tmp_path):
    """A class 'a$b$c' was drawn as 'a', math 'b', 'c' (issue 16's adversarial pass)."""
    from matplotlib.text import Text

    fig = plotting.plot_confusion_matrix(
        np.array([[1, 0], [0, 1]]), ["a$b$c", "x^2_{"], title="$y$", path=tmp_path / "c.png"
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a$b$c", "x^2_{"]
    texts = fig.findobj(Text)
    assert any(t.get_text() == "Confusion matrix\n$y$" for t in texts)
    assert not any(t.get_parse_math() for t in texts)
