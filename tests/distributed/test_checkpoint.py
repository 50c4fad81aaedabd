"""Checkpoints of distributed training: refused when they cannot resume this run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gradfit.errors import ModelFileError  # noqa: E402
from gradfit.io.arrays import ArrayRows  # noqa: E402
from gradfit.torch_backend.distributed import fit  # noqa: E402


@pytest.fixture
def rows() -> ArrayRows:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    return ArrayRows(X, X.sum(axis=1))


def test_a_checkpoint_resumes_only_the_run_it_was_written_for(
    rows: ArrayRows, tmp_path: Path
) -> None:
    from gradfit.io.checkpoint import load_checkpoint

    path = tmp_path / "ckpt.safetensors"
    kwargs = {"hidden": (4,), "epochs": 3, "batch_size": 5, "log": lambda line: None}
    fit(rows, checkpoint=path, **kwargs)
    saved = load_checkpoint(path)
    assert saved["epoch"] == 3 and len(saved["history"]["loss"]) == 3
    with pytest.raises(ModelFileError, match=r"another run \(batch_size: 5 then, 4 now\)"):
        fit(rows, checkpoint=path, resume=True, **(kwargs | {"batch_size": 4}))
    with pytest.raises(ModelFileError, match=r"rows and chunks .* this run has"):
        fit(ArrayRows(rows.X, rows.Y, chunk_rows=7), checkpoint=path, resume=True, **kwargs)
    fewer = ArrayRows(rows.X[:15], rows.Y[:15])
    with pytest.raises(ModelFileError, match=r"'n_rows': 20.*'n_rows': 15"):
        fit(fewer, checkpoint=path, resume=True, **kwargs)
    with pytest.raises(ModelFileError, match="no such file"):
        fit(rows, checkpoint=tmp_path / "none.safetensors", resume=True, **kwargs)
