"""The ``gradfit`` command line (built on click)."""

from gradfit.cli.main import cli, main

__all__ = ["cli", "main"]
