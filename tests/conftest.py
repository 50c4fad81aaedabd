"""Shared test setup."""

from __future__ import annotations

import importlib.util
import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # CI must run the torch tests: a skip for lack of torch would hide the parity checks.
    if os.environ.get("GRADFIT_REQUIRE_TORCH") and importlib.util.find_spec("torch") is None:
        raise pytest.UsageError("GRADFIT_REQUIRE_TORCH is set but torch is not installed")
