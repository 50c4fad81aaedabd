"""Part 2 of the walk-through: the same models with PyTorch autograd.

First ``nn.Linear(1, 1)`` on the standardised 50-point linear sample, sum of squared
errors, the post's hand-written update ``p ← p - 1e-4 · p.grad`` for 200 epochs; then
the 1-64-1 ReLU network on the 20 sine points, Adam at lr 0.1, mean squared error,
100 full-batch epochs. Both start from parameters drawn by the engine from the seed
(PyTorch's own generator is not used) and train in float32, PyTorch's default.

Beyond the post: how sure is that fit? A deep ensemble of five such networks, each
with a second output for its variance, trained together on the Gaussian negative
log-likelihood (``MLPRegressor(n_members=5, loss="gaussian_nll", backend="torch")``),
draws its 90% interval over the truth and the points: narrow among them, wide where
they are missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit import plotting
from gradfit.datasets import Dataset, scale
from gradfit.demo.problems import generators, problems
from gradfit.engine.history import History
from gradfit.engine.network import MLP
from gradfit.engine.types import Array

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LINEAR_EPOCHS, LINEAR_LR = 200, 1e-4
NETWORK_SIZES, NETWORK_EPOCHS, NETWORK_LR = [1, 64, 1], 100, 0.1
LOG_EVERY = 10
DTYPE = np.float32
ENSEMBLE_MEMBERS, ENSEMBLE_LR, ENSEMBLE_EPOCHS = 5, 0.01, 500


@dataclass(frozen=True)
class TorchPart:
    """Everything part 2 computed.

    Attributes
    ----------
    linear, sine : Dataset
    x_scaled, y_scaled : (50,) arrays
        The standardised linear sample the linear layer was trained on.
    linear_net, network : MLP
        The trained models, copied back from torch (float32).
    linear_history, network_history : History
        Their losses per epoch (sum of squared errors; mean squared error).
    linear_log, network_log : list of str
        The loss lines logged while each trained.
    ensemble : MLPRegressor
        Five 1-64-2 networks with a Gaussian head, fitted together on the sine points.
    """

    linear: Dataset
    sine: Dataset
    x_scaled: Array
    y_scaled: Array
    linear_net: MLP
    linear_history: History
    network: MLP
    network_history: History
    linear_log: list[str]
    network_log: list[str]
    ensemble: Any


def run(seed: int, log: Callable[[str], None] = print) -> TorchPart:
    """Part 2 on the data drawn from ``seed``, saying what it does through ``log``."""
    from gradfit import torch_backend

    data, rngs = problems(seed), generators(seed)
    x_s, _ = scale(data.linear.x_train)
    y_s, _ = scale(data.linear.y_train)
    linear_net = MLP([1, 1], "identity", rng=rngs["linear layer init"], dtype=DTYPE)
    log(
        f"nn.Linear(1, 1) on the standardised sample of 50, hand-written update "
        f"p -= {LINEAR_LR:g} * p.grad, {LINEAR_EPOCHS} epochs; the loss is the sum of squared "
        "errors at the parameters before each epoch's update:"
    )
    linear_log: list[str] = []
    linear_history = torch_backend.train(
        linear_net,
        x_s,
        y_s,
        optimizer="manual",
        lr=LINEAR_LR,
        epochs=LINEAR_EPOCHS,
        loss="sse",
        record_parameters=True,
        log_every=LOG_EVERY,
        log=_tee(linear_log, log),
    )
    network = MLP(NETWORK_SIZES, "relu", rng=rngs["network init"], dtype=DTYPE)
    log(
        f"nn.Sequential(Linear(1, 64), ReLU(), Linear(64, 1)) on the 20 sine points, Adam at "
        f"lr {NETWORK_LR:g}, {NETWORK_EPOCHS} full-batch epochs; the loss is the mean squared "
        "error (not comparable with the sums above):"
    )
    network_log: list[str] = []
    network_history = torch_backend.train(
        network,
        data.sine.x_train,
        data.sine.y_train,
        optimizer="adam",
        lr=NETWORK_LR,
        epochs=NETWORK_EPOCHS,
        loss="mse",
        log_every=LOG_EVERY,
        log=_tee(network_log, log),
    )
    ensemble = _ensemble(data.sine, seed, log)
    return TorchPart(
        data.linear,
        data.sine,
        x_s,
        y_s,
        linear_net,
        linear_history,
        network,
        network_history,
        linear_log,
        network_log,
        ensemble,
    )


def _ensemble(sine: Dataset, seed: int, log: Callable[[str], None]) -> Any:
    """The deep ensemble on the 20 sine points (standardised inside the estimator)."""
    import warnings

    from gradfit.estimator import MLPRegressor

    log(
        f"A deep ensemble of {ENSEMBLE_MEMBERS} such networks, each with a second output for "
        f"its variance, trained together on the Gaussian negative log-likelihood: Adam at lr "
        f"{ENSEMBLE_LR:g}, up to {ENSEMBLE_EPOCHS} full-batch epochs, stopping when the loss "
        "stops falling."
    )
    # Beyond the points the figure shows the networks themselves, not held at the edge
    # (clip_inputs); the stopping rule is set here, so the figure does not move with defaults.
    model = MLPRegressor(
        (64,), n_members=ENSEMBLE_MEMBERS, loss="gaussian_nll", backend="torch",
        learning_rate_init=ENSEMBLE_LR, max_iter=ENSEMBLE_EPOCHS, batch_size=None,
        dtype="float32", random_state=seed, early_stopping=False, n_iter_no_change=30,
        clip_inputs=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the epochs are the post's budget
        return model.fit(sine.x_train.reshape(-1, 1), sine.y_train)


def _tee(lines: list[str], log: Callable[[str], None]) -> Callable[[str], None]:
    """A log that keeps each line in ``lines`` and passes it on to ``log``."""

    def both(line: str) -> None:
        lines.append(line)
        log(line)

    return both


def predict(net: MLP, x: Array) -> Array:
    """``net``'s predictions at the inputs ``x: (n,)``, as ``(n,)`` float64."""
    return net.forward(np.asarray(x, dtype=net.dtype).reshape(-1, 1))[:, 0].astype(np.float64)


def final_loss(net: MLP, x: Array, y: Array, loss: str) -> float:
    """The loss of the trained ``net`` on ``(x, y)`` (after the last update)."""
    R = predict(net, x) - y
    return float(R @ R) / (R.size if loss == "mse" else 1)


def summary(part: TorchPart) -> list[str]:
    """One line per model: its final parameters or size, and its loss after training."""
    W, b = part.linear_net.parameters()
    return [
        f"nn.Linear(1, 1): intercept {b[0]:.4f}, slope {W[0, 0]:.4f}, loss "
        f"{final_loss(part.linear_net, part.x_scaled, part.y_scaled, 'sse'):.4g} "
        "(sum of squared errors)",
        f"1-64-1 ReLU network ({part.network.n_parameters} parameters): loss "
        f"{final_loss(part.network, part.sine.x_train, part.sine.y_train, 'mse'):.4g} "
        "(mean squared error on the 20 training points)",
        f"deep ensemble of {ENSEMBLE_MEMBERS} 1-64-2 networks: {part.ensemble.n_iter_} epochs, "
        f"mean 90% interval width {_mean_width(part):.3g} on the 20 points and "
        f"{_mean_width(part, gaps=True):.3g} where x lies over 1 from every point",
    ]


def band_grid(part: TorchPart) -> Array:
    """Where the ensemble's band is drawn: the sine's range and one unit beyond."""
    return np.linspace(part.sine.x.min() - 1, part.sine.x.max() + 1, 801)


def _mean_width(part: TorchPart, gaps: bool = False) -> float:
    x = part.sine.x_train
    if gaps:
        grid = band_grid(part)
        x = grid[np.abs(grid[:, None] - part.sine.x_train[None, :]).min(axis=1) > 1]
    lower, upper = part.ensemble.predict_interval(x.reshape(-1, 1), coverage=0.9)
    return float(np.mean(upper - lower))


FIGURES = (
    "10-torch-linear-loss",
    "11-torch-linear-fit",
    "12-torch-network-loss",
    "13-torch-network-fit",
    "14-torch-ensemble-band",
)
"""The file names (without ``.png``) of this part's figures, in order: known before
the part runs, so that ``gradfit demo`` can check its output folder first."""


def figures(part: TorchPart) -> dict[str, Figure]:
    """Part 2's figures by file name (without ``.png``): :data:`FIGURES`, in order."""
    grid = np.linspace(part.x_scaled.min(), part.x_scaled.max(), 100)
    # A fine grid, so the kinks of the piecewise-linear ReLU fit are drawn where they are.
    fine = np.linspace(part.sine.x.min(), part.sine.x.max(), 801)
    drawn = [
        plotting.plot_loss(
            part.linear_history,
            title=f"nn.Linear(1, 1), hand-written update: {LINEAR_EPOCHS} epochs at "
            f"lr {LINEAR_LR:g}",
        ),
        plotting.plot_fit(
            grid,
            {"nn.Linear(1, 1)": predict(part.linear_net, grid)},
            observed=(part.x_scaled, part.y_scaled),
            title="nn.Linear(1, 1) over the standardised sample",
            xlabel="x (standardised)",
            ylabel="y (standardised)",
        ),
        plotting.plot_loss(
            part.network_history,
            log_scale=True,
            title=f"1-64-1 ReLU network, Adam at lr {NETWORK_LR:g}",
        ),
        plotting.plot_fit(
            fine,
            {"1-64-1 ReLU network": predict(part.network, fine)},
            truth=4 * np.sin(fine),
            observed=(part.sine.x_train, part.sine.y_train),
            title="Truth, fit and observed points",
        ),
        _band(part),
    ]
    return dict(zip(FIGURES, drawn, strict=True))


def _band(part: TorchPart) -> Figure:
    grid = band_grid(part)
    mean = part.ensemble.predict(grid.reshape(-1, 1))
    lower, upper = part.ensemble.predict_interval(grid.reshape(-1, 1), coverage=0.9)
    return plotting.plot_band(
        grid, mean, lower, upper, truth=4 * np.sin(grid),
        observed=(part.sine.x_train, part.sine.y_train),
        title=f"Deep ensemble of {ENSEMBLE_MEMBERS}: mean and 90% interval",
    )  # fmt: skip
