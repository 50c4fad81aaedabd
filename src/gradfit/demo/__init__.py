"""The walk-through, end to end: ``gradfit demo`` and ``make demo``.

:func:`run` trains every model of the post with the post's settings, seeded, prints
what it does (each log line names its loss), writes the figures as PNG and returns
their paths. Part 1 needs NumPy and matplotlib; part 2 also needs PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gradfit.demo import numpy_part, torch_part
from gradfit.plotting import save

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PARTS = ("all", "numpy", "torch")


def run(
    out_dir: str | Path,
    part: str | None = "all",
    *,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Run the walk-through (``part``: ``all``, ``numpy`` or ``torch``) and write its figures.

    Parameters
    ----------
    out_dir : str or path
        Folder for the PNG files; created if missing. Files of the same name are replaced.
    part : {"all", "numpy", "torch"} or None
        ``numpy`` is the post's first half (from scratch), ``torch`` its second;
        ``None`` means ``all``.
    seed : int
        Seed of every random source (data, samples, initial parameters).
    log : callable
        Receives each line of the narration.

    Returns
    -------
    list of Path
        The figures written, in order.
    """
    part = part or "all"
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; choose one of: {', '.join(PARTS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log(f"gradfit demo, seed {seed}: the walk-through 'Neural Networks in R', in Python.")
    written: list[Path] = []
    if part in ("all", "numpy"):
        log("")
        log("Part 1: a straight line from scratch in NumPy (gradfit.training_loop).")
        result = numpy_part.run(seed, log)
        written += _write(numpy_part.figures(result), out, log)
        _summarise(numpy_part.summary(result), log)
    if part in ("all", "torch"):
        log("")
        log("Part 2: the same with PyTorch autograd (gradfit.torch_backend).")
        torch_result = torch_part.run(seed, log)
        written += _write(torch_part.figures(torch_result), out, log)
        _summarise(torch_part.summary(torch_result), log)
    return written


def figure_paths(out_dir: str | Path, part: str | None = "all") -> list[Path]:
    """The files :func:`run` writes for ``part`` into ``out_dir``, in order, known before
    it runs (each part's ``FIGURES``)."""
    part = part or "all"
    names = [
        *(numpy_part.FIGURES if part in ("all", "numpy") else ()),
        *(torch_part.FIGURES if part in ("all", "torch") else ()),
    ]
    return [Path(out_dir) / f"{name}.png" for name in names]


def _write(figures: dict[str, Figure], out: Path, log: Callable[[str], None]) -> list[Path]:
    paths = [save(fig, out / f"{name}.png") for name, fig in figures.items()]
    log("Figures:")
    for p in paths:
        log(f"  {p}")
    return paths


def _summarise(lines: list[str], log: Callable[[str], None]) -> None:
    log("Final models:")
    for line in lines:
        log(f"  {line}")
