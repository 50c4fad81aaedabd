"""What one playground session may use: the caps, stated once and enforced by the server.

One machine serves many tabs, so each session's data, network, memory and CPU time
are bounded. The page shows these numbers (the server sends them in its ``hello``).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """The per-session caps.

    Attributes
    ----------
    max_points : int
        Rows of data (train and test together), generated or uploaded.
    max_upload_bytes : int
        Size of an uploaded CSV file.
    max_chunk_bytes : int
        Size of one binary WebSocket frame of an upload.
    max_columns : int
        Columns of an uploaded CSV file.
    max_layers : int
        Hidden layers.
    max_units : int
        Units in one hidden layer.
    max_work : int
        Training rows × weights: what one epoch costs (about 6 flops each), which
        bounds an epoch to a fraction of a second and a closed tab's run to
        stopping within a second.
    max_memory_bytes : int
        The estimated memory of the run (data, batch workspace, parameters and
        optimizer state), refused above this.
    max_cpu_seconds : float
        CPU time one run may use; it then pauses and says so (reset starts anew).
    max_updates_per_second : float
        Views sent to the page per second at most; a run waits (idle) rather
        than train faster than the page is shown.
    max_epochs_per_update : int
        The fastest speed setting.
    """

    max_points: int = 10_000
    max_upload_bytes: int = 5 * 2**20
    max_chunk_bytes: int = 2**20
    max_columns: int = 1000
    max_layers: int = 8
    max_units: int = 512
    max_work: int = 100_000_000
    max_memory_bytes: int = 256 * 2**20
    max_cpu_seconds: float = 600.0
    max_updates_per_second: float = 30.0
    max_epochs_per_update: int = 1000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


LIMITS = Limits()


def memory_estimate(n_rows: int, n_in: int, hidden: list[int], n_test: int) -> int:
    """Bytes a run needs, roughly: float64 data, each layer's activations and their
    gradients for a full batch of ``n_rows`` (the engine's workspace), the test
    rows' forward pass, and the parameters with gradients and Adam's two moments."""
    sizes = [n_in, *hidden, 1]
    units = sum(sizes)
    weights = sum(a * b + b for a, b in itertools.pairwise(sizes))
    return 8 * (2 * n_rows * units + n_test * units + 5 * weights)


def weights_of(n_in: int, hidden: list[int]) -> int:
    """The number of weights and biases of the network ``n_in → hidden → 1``."""
    sizes = [n_in, *hidden, 1]
    return sum(a * b + b for a, b in itertools.pairwise(sizes))
