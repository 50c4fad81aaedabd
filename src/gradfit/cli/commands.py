"""The small subcommands: ``demo``, ``report`` and ``gradcheck``."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gradfit import demo as walkthrough
from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.options import MAX_CHECKED, SEED, layer_sizes
from gradfit.cli.paths import OutputFile, OutputFolder, check_paths
from gradfit.demo import PARTS
from gradfit.engine.activations import ACTIVATIONS
from gradfit.engine.losses import LOSSES

if TYPE_CHECKING:
    from gradfit.gradcheck import GradientReport

SEED_OPTION = click.option(
    "--seed", type=SEED, default=0, show_default=True, help="Seed of every random source."
)


@click.command(epilog=EPILOG)
@click.argument("part", type=click.Choice(PARTS), default="all", metavar="[PART]")
@click.option(
    "--out",
    "out_dir",
    type=OutputFolder("figures"),
    default=Path("figures"),
    show_default=True,
    help="Folder for the figures (created if missing).",
)
@SEED_OPTION
def demo(part: str, out_dir: Path, seed: int) -> None:
    """Run the walk-through (all of it, or one PART: numpy or torch) and write its figures."""
    if out_dir.is_dir():  # before any work: no file of another kind replaced, none lost
        paths = walkthrough.figure_paths(out_dir, part)
        check_paths({}, {f"figure {path.stem}": path for path in paths})
    walkthrough.run(out_dir, part=part, seed=seed, log=click.echo)


@click.command(epilog=EPILOG)
@click.option(
    "--out",
    "out_path",
    type=OutputFile("report"),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write (figures embedded).",
)
@SEED_OPTION
def report(out_path: Path, seed: int) -> None:
    """Write the whole walk-through, with gradfit's numbers and figures, as one HTML file."""
    check_paths({}, {"report": out_path})
    from gradfit.report import write

    write(out_path, seed=seed)
    click.echo(f"wrote {out_path}")


@click.command(epilog=EPILOG)
@click.option(
    "--sizes",
    default="2,1",
    metavar="SIZES",
    callback=layer_sizes,
    show_default=True,
    help="Layer sizes, input first, as '2,8,1' or '2 8 1'.",
)
@click.option(
    "--activation",
    type=click.Choice(sorted(ACTIVATIONS)),
    default="identity",
    show_default=True,
    help="Activation of the hidden layers.",
)
@click.option(
    "--loss",
    type=click.Choice(list(LOSSES)),
    default="mse",
    show_default=True,
    help="The loss: squared errors or a Gaussian NLL (two outputs per target: mean and "
    "variance) on random targets, or a cross-entropy on random labels.",
)
@SEED_OPTION
def gradcheck(sizes: tuple[int, ...], activation: str, loss: str, seed: int) -> None:
    """Check the engine's gradient against torch autograd and finite differences.

    Exits with status 1 when the methods disagree.
    """
    from gradfit.gradcheck import random_check

    if loss == "gaussian_nll" and sizes[-1] % 2:
        raise CommandError(
            f"--loss gaussian_nll needs an even number of outputs in --sizes (a mean and "
            f"a variance per target); got {sizes[-1]}",
            Exit.USAGE,
        )
    if loss == "cross_entropy" and sizes[-1] < 2:
        # One logit's softmax is 1 whatever it is: every gradient 0, and a trivial "OK".
        raise CommandError(
            "--loss cross_entropy needs at least two outputs in --sizes (a logit per "
            f"class); got {sizes[-1]} (binary_cross_entropy takes one)",
            Exit.USAGE,
        )
    n_parameters = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    if n_parameters > MAX_CHECKED:
        raise CommandError(
            f"--sizes {','.join(map(str, sizes))} has {n_parameters} parameters; finite "
            f"differences take two passes per parameter: check at most {MAX_CHECKED}",
            Exit.USAGE,
        )
    result = random_check(sizes, activation, seed, loss=loss)
    click.echo(str(result))
    if not result.ok:
        raise CommandError(f"the gradients disagree: {_which(result)} (see the table above)")


def _which(result: GradientReport) -> str:
    """Which methods disagree on how many parameters: finite differences alone, where
    the engine and autograd agree, is the rounding of a central difference (gradients of
    ~1e-10 deep in a narrow network), not a wrong chain rule."""
    counts = Counter((a, b) for _, a, b in result.mismatches())
    said = "; ".join(f"{a} vs {b} on {n} parameter(s)" for (a, b), n in counts.items())
    if all("finite differences" in pair for pair in counts):
        said += " (the engine and autograd agree)"
    return said
