"""The value types of the command line's numeric options: finite, in range, capped.

Every number an option takes goes through one of these types, so a bad value
(``nan``, ``inf``, a negative seed, a layer of 10¹¹ units) is a usage error, exit 2,
named by click as ``Invalid value for '--lr': …`` before any work starts. The caps
keep a typo from asking for more memory or time than any machine has.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import click

from gradfit.defaults import MAX_UNITS

MAX_CHECKED = 20_000
"""The most parameters ``gradcheck`` checks (finite differences cost two passes each)."""

MAX_EPOCHS = 1_000_000
"""The most epochs, and the largest patience or checkpoint interval, in epochs."""

MAX_PROCESSES = max(2, os.cpu_count() or 1)
"""The most ranks ``--nproc-per-node`` starts: one per CPU of this machine (two at least,
so that a one-CPU machine can still try a distributed run); more only share the CPUs."""

MAX_SEED = 2**32 - 1
"""Seeds are ``0 … 2³² − 1``, as NumPy's and PyTorch's generators all take them."""

MAX_FLOAT = 1e6
"""The largest learning rate, penalty or tolerance taken."""

MAX_CHUNK_ROWS = 2**24
"""The most rows ``predict`` and ``evaluate`` read at a time (``--chunk-rows``)."""


class Finite(click.FloatRange):
    """A float in a range that is never NaN or infinite (click's ``FloatRange`` lets
    ``nan`` through every bound, and ``inf`` through an open top)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


def count(low: int, high: int) -> click.IntRange:
    """Integers in ``[low, high]``."""
    return click.IntRange(min=low, max=high)


SEED = count(0, MAX_SEED)
UNITS = count(1, MAX_UNITS)
EPOCHS = count(1, MAX_EPOCHS)
POSITIVE = Finite(min=0, max=MAX_FLOAT, min_open=True)
NON_NEGATIVE = Finite(min=0, max=MAX_FLOAT)
FRACTION = Finite(min=0, max=1, min_open=True, max_open=True)


class BatchSize(click.ParamType):  # type: ignore[type-arg]
    """``auto``, ``full``, or a number of rows in ``[1, 2³¹ − 1]``."""

    name = "N|auto|full"
    rows = count(1, 2**31 - 1)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in ("auto", "full"):
            return value
        try:
            size = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r}: give a positive integer, 'auto' or 'full'", param, ctx)
        return self.rows.convert(size, param, ctx)


def layer_sizes(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    """Layer sizes written ``2,8,1`` or ``"2 8 1"``: at least two, each in ``[1, MAX_UNITS]``."""
    words = [w.strip() for w in value.split(",")] if "," in value else value.split()
    if "" in words[:-1] or (words and not words[0]):
        # "2,,1" read as 2,1: a network with the layer the typo left out.
        raise click.BadParameter(f"{value!r} has an empty size between commas; give each size")
    try:
        sizes = tuple(int(w) for w in words if w)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a list of integers such as 2,8,1") from None
    if len(sizes) < 2 or min(sizes) < 1 or max(sizes) > MAX_UNITS:
        raise click.BadParameter(
            f"{value!r}: give at least two sizes, input first, each from 1 to {MAX_UNITS}"
        )
    return sizes


def unseen_categories_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--unseen-categories`` option of a command that encodes a model's categories."""
    from gradfit.io.categories import UNSEEN

    return click.option(
        "--unseen-categories",
        type=click.Choice(UNSEEN),
        default="error",
        show_default=True,
        help="A category the model did not see in training: refuse it, or encode it as none "
        "of the known ones (other).",
    )


def chunk_rows_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--chunk-rows`` option of a command that reads DATA ``what`` a chunk at a time."""
    from gradfit.io.datafile import CHUNK_CELLS

    return click.option(
        "--chunk-rows",
        type=count(1, MAX_CHUNK_ROWS),
        help=f"Rows {what} at a time: memory is bounded by a chunk, whatever the size of "
        f"DATA (default: as many as make {CHUNK_CELLS:,} cells, 16 MiB of float64).",
    )
