"""gradfit.demo: every figure is written, and the numbers it reports are right."""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("matplotlib")

from gradfit import add_intercept, layer, squared_loss
from gradfit.datasets import scale
from gradfit.demo import PARTS, figure_paths, numpy_part, problems, run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SEED = 3


def contraction(x, k, lr):
    """``(I - 2 lr XᵀX)^k`` for X = [1, x] with standardised x, where XᵀX = diag(n, n - 1)."""
    n = x.size
    return np.array([(1 - 2 * lr * n) ** k, (1 - 2 * lr * (n - 1)) ** k])


@pytest.fixture(scope="module")
def numpy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("numpy")
    lines: list[str] = []
    return out, run(out, "numpy", seed=SEED, log=lines.append), lines


def test_numpy_part_writes_every_figure(numpy_run):
    out, paths, lines = numpy_run
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in paths)
    assert len(paths) == 9
    assert paths == figure_paths(out, "numpy")  # known before the run, for the CLI's check
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == PNG_MAGIC, p
        assert len(data) > 15_000, f"{p} looks empty ({len(data)} bytes)"
        assert f"  {p}" in lines


def test_numpy_part_says_which_loss_it_logs(numpy_run):
    _, _, lines = numpy_run
    epochs = [line for line in lines if line.startswith("Epoch:")]
    # 500 epochs logged every 50, then 200 every 50.
    assert len(epochs) == 10 + 4
    assert all(line.endswith("(sum of squared errors)") for line in epochs)


def test_numpy_part_numbers_match_closed_form():
    part = numpy_part.run(SEED, log=lambda _: None)
    lin = problems.problems(SEED).linear
    assert_allclose(part.first_loss, squared_loss(layer(add_intercept(lin.x), [1.0, 1.0]), lin.y))

    # On standardised data XᵀX is diagonal, so gradient descent closes the gap to least
    # squares by an exact factor per coordinate.
    line = part.line
    assert_allclose(line.x, scale(lin.x_train)[0])
    best = np.linalg.lstsq(add_intercept(line.x), line.y, rcond=None)[0]
    assert_allclose(line.lstsq, best)
    assert_allclose(best[0], 0.0, atol=1e-12)
    expected = best + contraction(line.x, 500, 1e-4) * (np.array([1.0, 1.0]) - best)
    assert_allclose(line.final, expected, rtol=1e-10)
    assert abs(line.final - best).max() < 0.01
    assert line.trajectory.losses.shape == (500,)
    assert line.trajectory.weights.shape == (501, 2)
    assert line.trajectory.losses[0] > 40 and line.final_loss < 2.5

    # Unscaled, XᵀX is not diagonal, but the same recursion holds with its matrix power.
    sine = part.sine_line
    X = add_intercept(sine.x)
    best = np.linalg.lstsq(X, sine.y, rcond=None)[0]
    step = np.linalg.matrix_power(np.eye(2) - 2e-4 * X.T @ X, 200)
    assert_allclose(sine.final, best + step @ (np.array([1.0, 1.0]) - best), rtol=1e-10)
    assert sine.trajectory.weights.shape == (201, 2)


def test_summary_reports_the_final_lines():
    part = numpy_part.run(SEED, log=lambda _: None)
    first, second = numpy_part.summary(part)
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d+", first)]
    assert_allclose(numbers[:2], part.line.final, atol=5e-5)
    assert "line on sine" in second


def test_parts_share_the_data():
    a, b = problems.problems(SEED), problems.problems(SEED)
    assert_allclose(a.linear.y, b.linear.y)
    assert not np.allclose(problems.problems(SEED + 1).linear.y, a.linear.y)


def test_unknown_part_is_refused(tmp_path):
    with pytest.raises(ValueError, match="choose one of: all, numpy, torch"):
        run(tmp_path, "tensorflow")
    assert PARTS == ("all", "numpy", "torch")


def test_torch_part(tmp_path):
    pytest.importorskip("torch")
    from gradfit.demo import torch_part

    lines: list[str] = []
    paths = run(tmp_path, "torch", seed=SEED, log=lines.append)
    assert paths == figure_paths(tmp_path, "torch")
    assert [p.name for p in paths] == [
        "10-torch-linear-loss.png",
        "11-torch-linear-fit.png",
        "12-torch-network-loss.png",
        "13-torch-network-fit.png",
        "14-torch-ensemble-band.png",
    ]
    assert all(p.read_bytes()[:8] == PNG_MAGIC and p.stat().st_size > 15_000 for p in paths)

    sse = [ln for ln in lines if ln.startswith("Epoch:") and ln.endswith("(sum of squared errors)")]
    mse = [ln for ln in lines if ln.startswith("Epoch:") and ln.endswith("(mean squared error)")]
    assert len(sse) == 20 and len(mse) == 10
    assert sse[0].startswith("Epoch:   10  Loss: ")

    part = torch_part.run(SEED, log=lambda _: None)
    # The hand-written update is gradient descent: the same closed form as in part 1,
    # from the initial parameters the engine drew for nn.Linear(1, 1).
    init = torch_part.MLP([1, 1], "identity", rng=problems.generators(SEED)["linear layer init"])
    W0, b0 = init.parameters()
    x, y = part.x_scaled, part.y_scaled
    best = np.linalg.lstsq(add_intercept(x), y, rcond=None)[0]
    start = np.array([b0[0], W0[0, 0]])
    expected = best + contraction(x, 200, 1e-4) * (start - best)
    W, b = part.linear_net.parameters()
    assert_allclose([b[0], W[0, 0]], expected, atol=2e-5)  # float32

    h = part.network_history
    assert h.epochs == 100 and h.loss_name == "mse"
    final = torch_part.final_loss(part.network, part.sine.x_train, part.sine.y_train, "mse")
    assert final < h.loss[0] / 5
    # The ensemble's 90% interval: narrow among the points, wider away from them.
    assert part.ensemble.n_members == 5 and part.ensemble.backend == "torch"
    assert 1.5 * torch_part._mean_width(part) < torch_part._mean_width(part, gaps=True)
    assert f"{h.loss[9]:.6g}" in mse[0]


def test_the_readme_shows_what_the_demo_prints(tmp_path):
    """Each line of the README's ``make demo`` output is a line the demo prints, in order
    (a line that ends in ``...`` is a prefix; a line ``...`` stands for lines left out)."""
    pytest.importorskip("torch")
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What `make demo` does\n", 1)[1]
    shown = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)[0].splitlines()
    printed: list[str] = []
    run(tmp_path, "all", seed=0, log=printed.append)
    at = 0
    for want in (line for line in shown if line != "..."):
        prefix = want.removesuffix("...")
        while at < len(printed) and not (
            printed[at].startswith(prefix) if want.endswith("...") else printed[at] == want
        ):
            at += 1
        assert at < len(printed), f"the demo does not print {want!r} (in this order)"
        at += 1
