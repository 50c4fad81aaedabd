"""Fixtures for the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Invoke, write_sine_csv
from click.testing import CliRunner, Result

from gradfit.cli import cli


@pytest.fixture
def sine_csv(tmp_path: Path) -> Path:
    return write_sine_csv(tmp_path / "sine.csv")


@pytest.fixture
def invoke() -> Invoke:
    """``invoke(*args)``: run ``gradfit args…`` in-process; stdout and stderr kept apart."""
    runner = CliRunner()

    def run(*args: object) -> Result:
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return run
