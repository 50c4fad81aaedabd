"""What fit's outputs and a classifier's share: named inputs, and a drawing bound to its file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradfit.engine.types import Array


def frame(X: Array, features: tuple[str, ...]) -> Any:
    """``X: (n_samples, n_features)`` as a DataFrame with the column names ``features``."""
    import pandas as pd

    # A DataFrame gives the model its feature names, which predict checks against.
    return pd.DataFrame(X, columns=list(features))


def to_file(draw: Callable[..., object], *args: Any, **kwargs: Any) -> Callable[[Path], object]:
    """``draw(*args, **kwargs, path=file)`` as a function of ``file``."""
    return lambda file: draw(*args, path=file, **kwargs)
