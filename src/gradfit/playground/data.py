"""The playground's problems: the walk-through's line and sine, two surfaces, a CSV.

Each becomes a :class:`Problem`: training and test rows, the names of the columns
(which the exported command and script use), and the noise-free truth on the grid
the page draws on, when there is one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gradfit import datasets
from gradfit.demo.problems import generators
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.io.table import Table
from gradfit.io.tabular import read_table
from gradfit.playground.protocol import ProtocolError, Settings

CURVE_GRID = 200
"""Points of the grid a 1-D fit is drawn on."""
SURFACE_GRID = 40
"""Points per side of the grid a 2-D fit is drawn on."""


@dataclass(frozen=True)
class Problem:
    """Data to fit, split into training and test rows.

    Attributes
    ----------
    features : tuple of str
        Column names of the inputs (one or two).
    target : str
    X_train : (n_train, n_in) array
    y_train : (n_train,) array
    X_test : (n_test, n_in) array
    y_test : (n_test,) array
    grid : (n_grid, n_in) array
        Where the page draws the fit: a line of :data:`CURVE_GRID` points, or a
        :data:`SURFACE_GRID` × :data:`SURFACE_GRID` raster, row by row (x₂ outer).
    truth : (n_grid,) array or None
        The noise-free function on ``grid`` (``None`` for a CSV).
    bounds : list of (low, high)
        The range of each input the grid spans.
    """

    features: tuple[str, ...]
    target: str
    X_train: Array
    y_train: Array
    X_test: Array
    y_test: Array
    grid: Array
    truth: Array | None
    bounds: list[tuple[float, float]]

    @property
    def n_in(self) -> int:
        return self.X_train.shape[1]


def n_train_of(settings: Settings, n: int) -> int:
    """Training rows out of ``n``: at least 2, leaving at least 1 for the test set."""
    return min(max(2, round(settings.train_fraction * n)), n - 1)


def walkthrough_problem(settings: Settings) -> Problem:
    """The line or the sine as the walk-through draws them (``gradfit demo --seed``)."""
    n = settings.n_points
    rngs = generators(settings.seed)
    make = datasets.linear if settings.data == "line" else datasets.sine
    data = make(
        n,
        n_train_of(settings, n),
        noise_sd=settings.noise,
        rng=rngs["linear data" if settings.data == "line" else "sine data"],
    )
    test = np.setdiff1d(np.arange(n), data.train)
    low, high = float(data.x[0]), float(data.x[-1])
    grid = np.linspace(low, high, CURVE_GRID)
    truth = 2.0 * grid + 3.0 if settings.data == "line" else 4.0 * np.sin(grid)
    return Problem(
        features=("x",),
        target="y",
        X_train=data.x[data.train, None],
        y_train=data.y[data.train],
        X_test=data.x[test, None],
        y_test=data.y[test],
        grid=grid[:, None],
        truth=truth,
        bounds=[(low, high)],
    )


def ripple(X: Array) -> Array:
    """``2 sin(x₁) cos(x₂)``: a wave with four bumps on [-3, 3]²."""
    return 2.0 * np.sin(X[:, 0]) * np.cos(X[:, 1])


def peaks(X: Array) -> Array:
    """``3 exp(-|x - (1, 1)|²) - 2 exp(-|x + (1, 1)|² / 0.5)``: a hill and a pit."""
    up = np.exp(-((X[:, 0] - 1) ** 2 + (X[:, 1] - 1) ** 2))
    down = np.exp(-((X[:, 0] + 1) ** 2 + (X[:, 1] + 1) ** 2) / 0.5)
    return 3.0 * up - 2.0 * down


SURFACES: dict[str, Callable[[Array], Array]] = {"ripple": ripple, "peaks": peaks}
SURFACE_BOUNDS = (-3.0, 3.0)


def surface_problem(settings: Settings) -> Problem:
    """Points drawn uniformly on [-3, 3]², targets ``f(x) + N(0, noise²)``."""
    f, (low, high) = SURFACES[settings.data], SURFACE_BOUNDS
    rng = np.random.default_rng(settings.seed)
    n = settings.n_points
    X = rng.uniform(low, high, size=(n, 2))
    y = f(X) + rng.normal(0.0, settings.noise, size=n)
    train, test = split(n, n_train_of(settings, n), rng)
    side = np.linspace(low, high, SURFACE_GRID)
    x1, x2 = np.meshgrid(side, side)
    grid = np.column_stack([x1.ravel(), x2.ravel()])
    return Problem(
        features=("x1", "x2"),
        target="y",
        X_train=X[train],
        y_train=y[train],
        X_test=X[test],
        y_test=y[test],
        grid=grid,
        truth=f(grid),
        bounds=[(low, high), (low, high)],
    )


def split(n: int, n_train: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """Random ``(train_rows, test_rows)``, each sorted."""
    order = rng.permutation(n)
    return np.sort(order[:n_train]), np.sort(order[n_train:])


@dataclass
class Upload:
    """A CSV file the page uploaded, read by ``gradfit fit``'s reader.

    The file stays in a temporary folder while the session lives (the reader goes back
    to it to name the line of a bad cell); :meth:`close` removes it. Errors name the
    upload, not the temporary file.
    """

    name: str
    table: Table
    folder: tempfile.TemporaryDirectory[str]

    def floats(self, names: list[str], role: str) -> Array:
        try:
            return self.table.floats(names, role=role)
        except DataError as exc:
            raise DataError(str(exc).replace(str(self.table.path), self.name)) from None

    def close(self) -> None:
        self.folder.cleanup()


def read_upload(name: str, content: bytes) -> Upload:
    """Read the uploaded ``content`` of the file ``name`` as a CSV table."""
    folder = tempfile.TemporaryDirectory(prefix="gradfit-playground-")
    path = Path(folder.name) / "upload.csv"
    path.write_bytes(content)
    try:
        table = read_table(path, min_rows=3, purpose="split it into training and test rows")
    except DataError as exc:
        folder.cleanup()
        raise DataError(str(exc).replace(str(path), name)) from None
    return Upload(name, table, folder)


def table_problem(settings: Settings, table: Upload | None) -> Problem:
    """The uploaded table's chosen columns, split into training and test rows by the seed."""
    if table is None:
        raise ProtocolError("upload a CSV file before choosing data 'csv'", "data")
    if not 1 <= len(settings.features) <= 2:
        raise ProtocolError("pick one or two input columns of the CSV", "features")
    if not settings.target:
        raise ProtocolError("pick the target column of the CSV", "target")
    if settings.target in settings.features:
        raise ProtocolError(f"{settings.target!r} is both an input and the target", "target")
    X = table.floats(list(settings.features), role="input")
    y = table.floats([settings.target], role="target")[:, 0]
    n = len(y)
    rng = np.random.default_rng(settings.seed)
    train, test = split(n, n_train_of(settings, n), rng)
    bounds = [(float(c.min()), float(c.max())) for c in X.T]
    if len(bounds) == 1:
        grid = np.linspace(*bounds[0], CURVE_GRID)[:, None]
    else:
        x1, x2 = np.meshgrid(*(np.linspace(lo, hi, SURFACE_GRID) for lo, hi in bounds))
        grid = np.column_stack([x1.ravel(), x2.ravel()])
    return Problem(
        features=settings.features,
        target=settings.target,
        X_train=X[train],
        y_train=y[train],
        X_test=X[test],
        y_test=y[test],
        grid=grid,
        truth=None,
        bounds=bounds,
    )


def make_problem(settings: Settings, table: Upload | None) -> Problem:
    """The :class:`Problem` the settings describe (``table``: the session's upload)."""
    if settings.data in ("line", "sine"):
        return walkthrough_problem(settings)
    if settings.data in SURFACES:
        return surface_problem(settings)
    return table_problem(settings, table)
