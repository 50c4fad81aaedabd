"""The small subcommands: ``demo``, ``report`` and ``gradcheck``."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from gradfit.cli.exits import EPILOG


@click.command(epilog=EPILOG)
@click.argument("part", required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("figures"),
    show_default=True,
    help="Folder for the figures (created if missing).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random source.")
def demo(part: str | None, out_dir: Path, seed: int) -> None:
    """Run the walk-through (all of it, or one PART) and write its figures."""
    # gradfit.demo pulls in matplotlib: imported only when the command runs.
    walkthrough = importlib.import_module("gradfit.demo")
    out_dir.mkdir(parents=True, exist_ok=True)
    walkthrough.run(out_dir, part=part, seed=seed, log=click.echo)
