"""The small subcommands: ``demo``, ``report`` and ``gradcheck``."""

from __future__ import annotations

from pathlib import Path

import click

from gradfit import demo as walkthrough
from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.paths import check_output
from gradfit.demo import PARTS
from gradfit.engine.activations import ACTIVATIONS
from gradfit.engine.losses import LOSSES


def _parse_sizes(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    """Layer sizes written ``2,8,1`` or ``"2 8 1"``: at least two positive integers."""
    try:
        sizes = tuple(int(w) for w in value.replace(",", " ").split())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a list of integers such as 2,8,1") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise click.BadParameter(f"{value!r}: give at least two positive sizes, input first")
    return sizes


SEED = click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of every random source."
)


@click.command(epilog=EPILOG)
@click.argument("part", type=click.Choice(PARTS), default="all", metavar="[PART]")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("figures"),
    show_default=True,
    help="Folder for the figures (created if missing).",
)
@SEED
def demo(part: str, out_dir: Path, seed: int) -> None:
    """Run the walk-through (all of it, or one PART: numpy or torch) and write its figures."""
    walkthrough.run(out_dir, part=part, seed=seed, log=click.echo)


@click.command(epilog=EPILOG)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write (figures embedded).",
)
@SEED
def report(out_path: Path, seed: int) -> None:
    """Write the whole walk-through, with gradfit's numbers and figures, as one HTML file."""
    check_output(out_path, what="report")
    from gradfit.report import write

    write(out_path, seed=seed)
    click.echo(f"wrote {out_path}")


@click.command(epilog=EPILOG)
@click.option(
    "--sizes",
    default="2,1",
    metavar="SIZES",
    callback=_parse_sizes,
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
@SEED
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
    result = random_check(sizes, activation, seed, loss=loss)
    click.echo(str(result))
    if not result.ok:
        raise CommandError("the gradients disagree (see the table above)", Exit.FAILURE)
