"""Shared test setup."""

from __future__ import annotations

import importlib.util
import os

import pytest

# OpenBLAS's worker threads busy-wait for about 2**28 CPU cycles after every threaded
# NumPy matrix product before they sleep. Where the engine and torch run in one process
# (parity tests, benchmarks), they take the cores torch's next call needs: on 2 cores a
# torch matmul right after a NumPy one ran 17x slower (12.9 ms instead of 0.77 ms).
# 4 is OpenBLAS's minimum (2**4 cycles), so its threads sleep at once. It is read when
# NumPy loads OpenBLAS, hence here, before any test module imports NumPy.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


def pytest_configure(config: pytest.Config) -> None:
    # CI must run the torch tests: a skip for lack of torch would hide the parity checks.
    if os.environ.get("GRADFIT_REQUIRE_TORCH") and importlib.util.find_spec("torch") is None:
        raise pytest.UsageError("GRADFIT_REQUIRE_TORCH is set but torch is not installed")
