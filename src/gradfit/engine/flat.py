"""Arrays laid end to end in one flat buffer, so that one operation updates them all."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from gradfit.engine.types import Array


def split_flat(flat: Array, like: Sequence[Array]) -> list[Array]:
    """Views of the 1-D ``flat`` shaped as the arrays ``like``, laid end to end in order."""
    offsets = list(itertools.accumulate((a.size for a in like), initial=0))
    return [
        flat[start:end].reshape(a.shape)
        for start, end, a in zip(offsets[:-1], offsets[1:], like, strict=True)
    ]


def flat_of(arrays: Sequence[Array]) -> Array | None:
    """The 1-D array that ``arrays`` tile exactly, in order (as :func:`split_flat`'s
    views tile theirs), or ``None`` when they are not such views."""
    if not arrays:
        return None
    base = arrays[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address = base.ctypes.data
    for a in arrays:
        if a.base is not base or a.dtype != base.dtype or not a.flags.c_contiguous:
            return None
        if a.ctypes.data != address:
            return None
        address += a.nbytes
    return base if address == base.ctypes.data + base.nbytes else None
