"""The walk-through as one self-contained HTML file: ``gradfit report``.

The page embeds every figure as a PNG data URI and links to nothing, so it can be
mailed or archived as a single file. It needs matplotlib and PyTorch.
"""

from __future__ import annotations

import os
from pathlib import Path

from gradfit import __version__
from gradfit.io.atomic import atomic_write
from gradfit.report import html, walkthrough

TITLE = "Neural networks from scratch and with PyTorch: the walk-through, by gradfit"


def render(seed: int = 0) -> str:
    """The report's HTML for ``seed``."""
    body = [
        html.heading(TITLE, 1),
        html.paragraph(
            f"gradfit {__version__} reproduces the walk-through 'Neural Networks in R' (Jonny "
            "Law, 2021) in Python: first a linear layer with hand-written gradients in NumPy, "
            "then the same models with PyTorch autograd, and checks the two against each other."
        ),
        *walkthrough.conventions(seed),
        *walkthrough.part_one(seed),
        *walkthrough.gradient_check(seed),
        *walkthrough.part_two(seed),
        *walkthrough.parity(seed),
    ]
    return html.page(TITLE, body)


def write(path: str | os.PathLike[str], seed: int = 0) -> Path:
    """Write the report to ``path`` (atomically: the file is whole or untouched) and return it."""
    text = render(seed)
    target = Path(path)
    with atomic_write(target, "wb") as f:
        f.write(text.encode("utf-8"))
    return target
