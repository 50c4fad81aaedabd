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
    path = tmp_path / "ckpt.npz"
    kwargs = {"hidden": (4,), "epochs": 2, "batch_size": 5, "log": lambda line: None}
    fit(rows, checkpoint=path, **kwargs)
    with np.load(path, allow_pickle=False) as saved:
        assert int(saved["epoch"]) == 2 and len(saved["loss"]) == 2
    with pytest.raises(ModelFileError, match="batch_size 5, this run has 4"):
        fit(rows, checkpoint=path, resume=True, **(kwargs | {"batch_size": 4}))
    with pytest.raises(ModelFileError, match="does not exist"):
        fit(rows, checkpoint=tmp_path / "none.npz", resume=True, **kwargs)
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ModelFileError, match="not a gradfit distributed checkpoint"):
        fit(rows, checkpoint=tmp_path / "other.npz", resume=True, **kwargs)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ModelFileError, match="not a readable checkpoint"):
        fit(rows, checkpoint=tmp_path / "junk.npz", resume=True, **kwargs)
