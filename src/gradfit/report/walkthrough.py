"""The report's sections: both halves of the walk-through, the gradient check, parity.

Each function returns a list of HTML fragments built from gradfit's own runs.
"""

from __future__ import annotations

import numpy as np

from gradfit import plotting
from gradfit.demo import numpy_part, torch_part
from gradfit.demo.problems import generators, problems
from gradfit.engine.network import MLP
from gradfit.report import html
from gradfit.report.parity import Parity, linear_layer, relu_network


def conventions(seed: int) -> list[str]:
    return [
        html.paragraph(
            f"Every random source is drawn from seed {seed} (regenerate with "
            f"`gradfit report --seed {seed}`): the data, the training samples and the initial "
            "parameters. The loss logged at epoch i belongs to the parameters before update i, "
            "as in the post. Part 1 and the torch linear layer log the sum of squared errors, "
            "the Adam network the mean squared error; each log line says which."
        )
    ]


def part_one(seed: int) -> list[str]:
    part = numpy_part.run(seed, log=lambda _: None)
    figs = numpy_part.figures(part)
    line, sine_line = part.line, part.sine_line
    return [
        html.heading("Part 1: a straight line from scratch, in NumPy"),
        html.paragraph(
            "The data: 100 points evenly on [-10, 10] with y ~ N(2x + 3, 2); a random sample "
            "of 50 is the training set. The bias is rolled into the weights: X = [1, x], "
            f"w = [w₀, w₁]. With w = (1, 1) the loss on all 100 points is {part.first_loss:.6g} "
            "(sum of squared errors)."
        ),
        html.figure(figs["01-linear-data"], "The linear data and its training sample."),
        html.heading("Gradient descent on the standardised sample", 3),
        html.paragraph(
            "x and y of the sample are standardised like R's scale(). The analytic gradient "
            f"-2 Xᵀ(y - Xw) drives {numpy_part.LINEAR_EPOCHS} full-batch steps at learning rate "
            f"{numpy_part.LINEAR_LR:g} from w = (1, 1):"
        ),
        html.preformatted(line.log),
        _line_table(line),
        html.figure(figs["02-linear-loss"], "Loss per epoch."),
        html.figure(figs["03-linear-fit"], "The learned line over the standardised sample."),
        html.figure(
            figs["04-linear-descent"],
            "The same run over the contours of the loss (the post does not draw this). "
            "Each step goes against the gradient, across the contours; on standardised data "
            "XᵀX is nearly a multiple of the identity, so the contours are circles.",
        ),
        html.figure(figs["05-linear-parameters"], "Intercept and slope per epoch."),
        html.heading("A straight line on the sine", 3),
        html.paragraph(
            "100 points on [-5, 5] with y ~ N(4 sin x, 1); a sample of 20. The same loop, "
            f"unscaled, {numpy_part.SINE_EPOCHS} epochs at {numpy_part.SINE_LR:g}:"
        ),
        html.figure(figs["06-sine-data"], "The sine, and the 20 training points."),
        html.preformatted(sine_line.log),
        _line_table(sine_line),
        html.figure(figs["07-sine-line-loss"], "Loss per epoch."),
        html.figure(
            figs["08-sine-line-fit"],
            "The straight line, drawn with its own intercept and slope (the post passed one "
            "coefficient as both).",
        ),
        html.figure(
            figs["09-sine-line-descent"],
            "Unscaled, the loss is steep along the slope and shallow along the intercept: "
            "the slope settles first, the intercept is still on its way after 200 epochs.",
        ),
    ]


def _line_table(fit: numpy_part.LineFit) -> str:
    rows = [
        ("gradient descent", fit.final, fit.final_loss),
        ("least squares", fit.lstsq, _sse(fit, fit.lstsq)),
    ]
    return html.table(
        ["", "intercept w₀", "slope w₁", "sum of squared errors"],
        [(name, f"{w[0]:.6f}", f"{w[1]:.6f}", f"{loss:.6g}") for name, w, loss in rows],
    )


def _sse(fit: numpy_part.LineFit, w: np.ndarray) -> float:
    r = fit.y - (w[0] + w[1] * fit.x)
    return float(r @ r)


def gradient_check(seed: int) -> list[str]:
    from gradfit.gradcheck import check_gradients, walkthrough_check

    sine = problems(seed).sine
    network = MLP(torch_part.NETWORK_SIZES, "relu", rng=generators(seed)["network init"])
    network_check = check_gradients(network, sine.x_train, sine.y_train, loss="mse")
    return [
        html.heading("Checking the hand-derived gradient"),
        html.paragraph(
            "The post checks its analytic gradient against torch autograd on one linear layer "
            "with a random 2-vector input, weights and target. gradfit compares three "
            "gradients in float64: the engine's backpropagation, torch autograd, and central "
            "finite differences; the tables give the largest absolute and relative error per "
            "parameter."
        ),
        html.heading("The post's check: one linear layer, one random input", 3),
        html.preformatted(str(walkthrough_check(seed)).splitlines()),
        html.heading("The 1-64-1 ReLU network at its initial parameters, on the sine points", 3),
        html.preformatted(str(network_check).splitlines()),
    ]


def part_two(seed: int) -> list[str]:
    part = torch_part.run(seed, log=lambda _: None)
    figs = torch_part.figures(part)
    linear_summary, network_summary, ensemble_summary = torch_part.summary(part)
    return [
        html.heading("Part 2: the same with PyTorch autograd"),
        html.paragraph(
            "nn.Linear(1, 1) on the standardised sample, the sum of squared errors, and the "
            f"post's hand-written update p ← p - {torch_part.LINEAR_LR:g}·p.grad under no_grad "
            f"with gradients zeroed each epoch, {torch_part.LINEAR_EPOCHS} epochs in float32. "
            "Its initial parameters are drawn by gradfit from the seed, not by torch."
        ),
        html.preformatted(part.linear_log),
        html.paragraph(linear_summary + "."),
        html.figure(figs["10-torch-linear-loss"], "Loss per epoch."),
        html.figure(figs["11-torch-linear-fit"], "The fitted line over the standardised sample."),
        html.heading("A network for the sine", 3),
        html.paragraph(
            "nn.Sequential(Linear(1, 64), ReLU(), Linear(64, 1)), Adam at learning rate "
            f"{torch_part.NETWORK_LR:g}, the mean squared error, {torch_part.NETWORK_EPOCHS} "
            "full-batch epochs on the 20 sine points:"
        ),
        html.preformatted(part.network_log),
        html.paragraph(network_summary + "."),
        html.figure(
            figs["12-torch-network-loss"],
            "Loss per epoch, on a log axis: Adam at lr 0.1 on 20 points is not smooth.",
        ),
        html.figure(
            figs["13-torch-network-fit"],
            "Truth, fit and observed points: a ReLU network is piecewise linear.",
        ),
        html.heading("How sure is the fit? A deep ensemble", 3),
        html.paragraph(
            f"{torch_part.ENSEMBLE_MEMBERS} such networks from different random starts, each "
            "with a second output for its variance (through softplus), trained together on "
            "the Gaussian negative log-likelihood (Lakshminarayanan, Pritzel & Blundell, "
            "2017), on standardised data. The prediction is the mixture of the members' "
            "Gaussians: its mean, and an interval from its variance."
        ),
        html.paragraph(ensemble_summary + "."),
        html.figure(
            figs["14-torch-ensemble-band"],
            "The 90% interval: narrow among the points, wide in the gaps and beyond them.",
        ),
    ]


def parity(seed: int) -> list[str]:
    runs = [linear_layer(seed), relu_network(seed)]
    body = [
        html.heading("The NumPy engine against PyTorch, step by step"),
        html.paragraph(
            "Each model trained twice in float64 from the same initial parameters on the same "
            "data: once by gradfit's engine (hand-derived backpropagation, its own SGD and "
            "Adam), once by torch (autograd, the hand-written update and torch.optim.Adam). "
            "Exact bits are not expected, as torch sums in another order; a wrong formula "
            "would show as a difference many orders of magnitude larger."
        ),
        html.table(
            ["model", "epochs", "final loss, NumPy", "final loss, torch", "largest difference"],
            [_parity_row(run) for run in runs],
        ),
    ]
    for run in runs:
        body.append(
            html.figure(
                plotting.plot_parity(run.numpy_history, run.torch_history, title=run.name),
                f"{run.name}: both losses per epoch (left) and the largest absolute difference "
                "between any two corresponding parameters after each epoch (right).",
            )
        )
    network = runs[1]
    grid = np.linspace(-5, 5, 401)
    body.append(
        html.figure(
            plotting.plot_fit(
                grid,
                {
                    "NumPy engine": torch_part.predict(network.numpy_net, grid),
                    "PyTorch": torch_part.predict(network.torch_net, grid),
                },
                truth=4 * np.sin(grid),
                observed=(network.x, network.y),
                title="The 1-64-1 network trained by each backend",
            ),
            "The two trained networks draw the same function.",
        )
    )
    body.append(
        html.figure(
            plotting.plot_parameters(
                network.numpy_history, title="1-64-1 ReLU network: every parameter per epoch"
            ),
            "Where Adam moved each of the network's 193 parameters, epoch by epoch "
            "(the engine's run; torch's is the same to within the differences above).",
        )
    )
    return body


def _parity_row(run: Parity) -> list[str]:
    return [
        run.name,
        str(run.numpy_history.epochs),
        f"{run.numpy_history.loss[-1]:.12g}",
        f"{run.torch_history.loss[-1]:.12g}",
        f"{run.max_difference.max():.2e}",
    ]
