"""Part 1 of the walk-through: one linear layer from scratch, in NumPy.

The settings are the post's: weights ``(1, 1)``; 500 epochs at learning rate 1e-4
on the standardised 50-point sample; then 200 epochs at 1e-4 of a straight line on
the 20 unscaled sine points. Every loss here is the sum of squared errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gradfit import plotting
from gradfit.datasets import Dataset, Standardizer, scale
from gradfit.demo.problems import problems
from gradfit.engine.history import log_line
from gradfit.engine.types import Array
from gradfit.walkthrough import Trajectory, add_intercept, layer, squared_loss, training_loop

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INIT_W = np.array([1.0, 1.0])
LINEAR_EPOCHS, LINEAR_LR = 500, 1e-4
SINE_EPOCHS, SINE_LR = 200, 1e-4
LOG_EVERY = 50


@dataclass(frozen=True)
class LineFit:
    """A straight line ``ŷ = w₀ + w₁ x`` fitted by :func:`~gradfit.training_loop`.

    Attributes
    ----------
    x, y : (n,) arrays
        The training data, as trained on (scaled for the linear problem).
    trajectory : Trajectory
        ``epochs + 1`` weight vectors ``[w₀, w₁]`` and ``epochs`` losses.
    lstsq : (2,) array
        The least-squares ``[w₀, w₁]`` on the same data, the minimum gradient descent heads for.
    log : list of str
        The loss lines logged while it trained.
    """

    x: Array
    y: Array
    trajectory: Trajectory
    lstsq: Array
    log: list[str]

    @property
    def final(self) -> Array:
        return self.trajectory.final_weights

    @property
    def final_loss(self) -> float:
        return squared_loss(layer(add_intercept(self.x), self.final), self.y)


@dataclass(frozen=True)
class NumpyPart:
    """Everything part 1 computed.

    Attributes
    ----------
    linear, sine : Dataset
    first_loss : float
        The loss of weights ``(1, 1)`` on all 100 unscaled linear points (the post: ~4476).
    x_scaler, y_scaler : Standardizer
        How the 50-point sample was standardised.
    line : LineFit
        The line fitted to the standardised linear sample.
    sine_line : LineFit
        The straight line fitted to the 20 sine points.
    """

    linear: Dataset
    sine: Dataset
    first_loss: float
    x_scaler: Standardizer
    y_scaler: Standardizer
    line: LineFit
    sine_line: LineFit


def fit_line(x: Array, y: Array, epochs: int, lr: float, log: Callable[[str], None]) -> LineFit:
    """Gradient descent from ``(1, 1)``, logging the loss every :data:`LOG_EVERY` epochs."""
    trajectory = training_loop(x, y, INIT_W, epochs, lr)
    lines = [
        log_line(epoch, float(trajectory.losses[epoch - 1]), "sse")
        for epoch in range(LOG_EVERY, epochs + 1, LOG_EVERY)
    ]
    for line in lines:
        log(line)
    best = np.linalg.lstsq(add_intercept(x), y, rcond=None)[0]
    return LineFit(x=x, y=y, trajectory=trajectory, lstsq=best, log=lines)


def run(seed: int, log: Callable[[str], None] = print) -> NumpyPart:
    """Part 1 on the data drawn from ``seed``, saying what it does through ``log``."""
    data = problems(seed)
    lin, sine = data.linear, data.sine
    first = squared_loss(layer(add_intercept(lin.x), INIT_W), lin.y)
    log("Linear data: 100 points, y ~ N(2x + 3, 2) on [-10, 10]; a sample of 50 for training.")
    log(f"Loss of w = (1, 1) on all 100 points: {first:.6g} (sum of squared errors)")
    x_s, x_scaler = scale(lin.x_train)
    y_s, y_scaler = scale(lin.y_train)
    log(
        f"Gradient descent on the standardised sample: w = (1, 1), {LINEAR_EPOCHS} epochs, "
        f"lr {LINEAR_LR:g}. Each line: the loss at the weights before that epoch's update."
    )
    line = fit_line(x_s, y_s, LINEAR_EPOCHS, LINEAR_LR, log)
    log(
        f"Sine data: 100 points, y ~ N(4 sin x, 1) on [-5, 5]; a sample of 20. "
        f"A straight line, w = (1, 1), {SINE_EPOCHS} epochs, lr {SINE_LR:g}, unscaled:"
    )
    sine_line = fit_line(sine.x_train, sine.y_train, SINE_EPOCHS, SINE_LR, log)
    return NumpyPart(lin, sine, first, x_scaler, y_scaler, line, sine_line)


def summary(part: NumpyPart) -> list[str]:
    """One line per model: its final parameters and loss, beside least squares."""
    return [
        f"{name}: intercept {fit.final[0]:.4f}, slope {fit.final[1]:.4f}, "
        f"loss {fit.final_loss:.4g} (sum of squared errors); "
        f"least squares: intercept {fit.lstsq[0]:.4f}, slope {fit.lstsq[1]:.4f}"
        for name, fit in (("line, standardised", part.line), ("line on sine", part.sine_line))
    ]


FIGURES = (
    "01-linear-data",
    "02-linear-loss",
    "03-linear-fit",
    "04-linear-descent",
    "05-linear-parameters",
    "06-sine-data",
    "07-sine-line-loss",
    "08-sine-line-fit",
    "09-sine-line-descent",
)
"""The file names (without ``.png``) of this part's figures, in order: known before
the part runs, so that ``gradfit demo`` can check its output folder first."""


def figures(part: NumpyPart) -> dict[str, Figure]:
    """Part 1's figures by file name (without ``.png``): :data:`FIGURES`, in order."""
    lin, sine, line, sine_line = part.linear, part.sine, part.line, part.sine_line
    grid = np.linspace(line.x.min(), line.x.max(), 100)
    truth_scaled = part.y_scaler.transform(2 * part.x_scaler.inverse_transform(grid) + 3)
    straight_on_sine = sine_line.final[0] + sine_line.final[1] * sine.x
    drawn = [
        plotting.plot_data(lin.x, lin.y, train=lin.train, title="Linear data: y ~ N(2x + 3, 2)"),
        plotting.plot_loss(
            line.trajectory,
            title=f"Straight line, standardised data: {LINEAR_EPOCHS} epochs at lr {LINEAR_LR:g}",
        ),
        plotting.plot_fit(
            grid,
            {"gradient descent": grid * line.final[1] + line.final[0]},
            truth=truth_scaled,
            observed=(line.x, line.y),
            title="The learned line over the standardised sample",
            xlabel="x (standardised)",
            ylabel="y (standardised)",
        ),
        plotting.plot_descent(
            line.trajectory, line.x, line.y, title="Gradient descent, standardised linear data"
        ),
        plotting.plot_parameters(
            line.trajectory, title="Intercept and slope per epoch, standardised linear data"
        ),
        plotting.plot_fit(
            sine.x,
            truth=sine.truth,
            observed=(sine.x_train, sine.y_train),
            title="Sine data: y ~ N(4 sin x, 1), the 20 training points",
        ),
        plotting.plot_loss(
            sine_line.trajectory,
            title=f"Straight line on the sine data: {SINE_EPOCHS} epochs at lr {SINE_LR:g}",
        ),
        plotting.plot_fit(
            sine.x,
            {"straight line": straight_on_sine},
            truth=sine.truth,
            observed=(sine.x_train, sine.y_train),
            title="A straight line cannot follow the sine",
        ),
        plotting.plot_descent(
            sine_line.trajectory,
            sine_line.x,
            sine_line.y,
            title="Gradient descent, straight line on the sine data",
        ),
    ]
    return dict(zip(FIGURES, drawn, strict=True))
