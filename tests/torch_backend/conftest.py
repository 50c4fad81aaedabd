"""Setup for the torch backend's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread: these problems are a few dozen rows wide.

    Threads only add synchronisation at this size, and on a busy 2-core machine a
    descheduled worker stalls every operation: 1000 full-batch steps of a 2-6-6-2
    network took 54 s on torch's 2 threads and 1.7 s on one, measured side by side.
    """
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
