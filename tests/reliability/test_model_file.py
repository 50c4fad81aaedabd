"""gradfit.save / gradfit.load: round trips, and every malformed file refused by name."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_files import rewrite, small_net, split, valid_bytes, with_tensor

import gradfit
from gradfit.engine.network import MLP
from gradfit.errors import GradfitError, ModelFileError, OutputPathError
from gradfit.io import safetensors_file


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["identity", "relu", "tanh", "sigmoid"])
def test_mlp_round_trip_is_exact(tmp_path: Path, dtype: Any, activation: str) -> None:
    net = MLP([3, 4, 5, 2], activation, rng=np.random.default_rng(1), dtype=dtype)
    path = tmp_path / "net.safetensors"
    gradfit.save(net, path)
    back = gradfit.load(path)
    assert isinstance(back, MLP)
    assert back.spec == net.spec
    for a, b in zip(back.parameters(), net.parameters(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    X = np.random.default_rng(2).normal(size=(7, 3)).astype(dtype)
    np.testing.assert_array_equal(back.forward(X), net.forward(X))


def test_save_replaces_an_old_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "net.safetensors"
    gradfit.save(MLP([1, 8, 1], rng=np.random.default_rng(0)), path)
    gradfit.save(small_net(), path)
    assert gradfit.load(path).sizes == [2, 3, 1]
    assert [p.name for p in tmp_path.iterdir()] == ["net.safetensors"]


def test_save_refuses_what_it_cannot_describe(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="save takes gradfit's MLP"):
        gradfit.save({"W": np.zeros(2)}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_save_names_scikit_learns_mlp_by_its_module(tmp_path: Path) -> None:
    """scikit-learn's MLPRegressor was refused as 'not MLPRegressor(max_iter=2)', which
    reads as gradfit's own."""
    from sklearn.neural_network import MLPRegressor as SklearnMLP

    theirs = SklearnMLP(max_iter=2).fit(np.eye(3), [0.0, 1.0, 2.0])
    with pytest.raises(TypeError) as info:
        gradfit.save(theirs, tmp_path / "x.safetensors")
    assert str(info.value) == (
        "save takes gradfit's MLP, MLPRegressor or MLPClassifier, or a torch module, not "
        "sklearn.neural_network._multilayer_perceptron.MLPRegressor (MLPRegressor(max_iter=2))"
    )
    assert not (tmp_path / "x.safetensors").exists()


def test_save_to_a_folder_is_gradfits_own_error_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "kept.csv").write_text("x\n1\n")
    for path in (folder, tmp_path / "models/"):
        with pytest.raises(OutputPathError) as info:
            gradfit.save(small_net(), path)
        assert str(info.value) == (
            f"cannot write the model to '{folder}': it is a folder; give the path of a "
            "file, such as one in that folder"
        )
    # An OSError still, as open() raises for a folder, and a GradfitError.
    assert isinstance(info.value, OSError) and isinstance(info.value, GradfitError)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept.csv", "models"]


@pytest.mark.parametrize(
    ("name", "data", "held"),
    [
        ("train.csv", b"x,y\n1,2\n", "text"),
        ("x.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}\x00", "binary data"),
        ("fit.png", b"\x89PNG\r\n\x1a\n\x00", "a PNG picture"),
        ("report.html", b"<!DOCTYPE html><p>mine</p>", "an HTML page"),
    ],
)
def test_save_refuses_to_replace_a_file_of_another_kind(
    tmp_path: Path, name: str, data: bytes, held: str
) -> None:
    # gradfit.save(net, "train.csv") replaced the user's data with the model, where fit
    # --out train.csv refuses; a model or checkpoint (or an empty file) is replaced.
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(OutputPathError) as info:
        gradfit.save(small_net(), path)
    assert str(info.value) == (
        f"cannot write the model to '{path}': it holds {held}, not a model or checkpoint (a "
        "safetensors file), which would be lost; choose another path, or move that file "
        "away first"
    )
    assert path.read_bytes() == data
    model = tmp_path / "m.safetensors"
    for _ in range(2):
        gradfit.save(small_net(), model)
    empty = tmp_path / "empty.safetensors"
    empty.touch()
    gradfit.save(small_net(), empty)
    assert isinstance(gradfit.load(empty), MLP)


def test_save_refuses_an_empty_path_and_a_folders_path_that_is_not_there(
    tmp_path: Path,
) -> None:
    # Path("new/") is Path("new"): a file named 'new' would have appeared.
    new = f"{tmp_path}/new/"
    with pytest.raises(OutputPathError) as info:
        gradfit.save(small_net(), new)
    assert str(info.value) == (
        f"cannot write the model to '{new}': a path ending in '/' names a folder, and there "
        f"is no folder '{tmp_path / 'new'}'; give the path of a file"
    )
    with pytest.raises(OutputPathError) as info:
        gradfit.save(small_net(), "")
    assert (
        str(info.value)
        == "cannot write the model to '': the path is empty; give the path of a file"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_text_file_given_as_a_model_is_named_text(tmp_path: Path) -> None:
    """Such as the data given first: ``predict d.csv m.safetensors``."""
    for text in ("x,y\n1,2\n", "x\n", "é,ü\n1,2\n"):
        path = tmp_path / "d.csv"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ModelFileError) as info:
            gradfit.load(path)
        assert str(info.value) == (
            f"{path}: not a valid gradfit model file: it is text (a CSV, say), not a "
            "safetensors file"
        )


def test_save_refuses_a_missing_folder_a_link_and_a_device(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "m.safetensors"
    with pytest.raises(OutputPathError) as info:
        gradfit.save(small_net(), missing)
    assert str(info.value) == (
        f"cannot write the model to '{missing}': the folder '{missing.parent}' does not exist"
    )
    kept = tmp_path / "kept.safetensors"
    gradfit.save(MLP([1, 8, 1], rng=np.random.default_rng(0)), kept)
    link = tmp_path / "link.safetensors"
    link.symlink_to(kept)
    # Replacing the link whole would leave kept.safetensors as it was, unlike what
    # the user meant; refused, as the CLI refuses it.
    with pytest.raises(OutputPathError, match=r"it is a symbolic link \(to '.*kept.safetensors'\)"):
        gradfit.save(small_net(), link)
    assert link.is_symlink() and gradfit.load(kept).sizes == [1, 8, 1]
    with pytest.raises(OutputPathError, match="'/dev/null': it is not a regular file"):
        gradfit.save(small_net(), "/dev/null")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_save_refuses_names_and_categories_load_would_refuse(tmp_path: Path) -> None:
    """Before, each wrote a file that gradfit.load then refused."""
    from gradfit.estimator import MLPRegressor

    X = np.random.default_rng(0).normal(size=(20, 2))
    model = MLPRegressor((3,), max_iter=2, random_state=0).fit(X, X[:, 0])
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError) as info:
        gradfit.save(model, path, target_names=["a", "b"])
    assert str(info.value) == (
        "cannot save with these names: target_names ['a', 'b'] is not 1 distinct name(s), "
        "one per target column the model predicts"
    )
    with pytest.raises(TypeError) as raised:
        gradfit.save(model, path, target_names="ab")
    assert str(raised.value) == "target_names is a list of names, one per target; got 'ab'"
    with pytest.raises(ValueError) as info:
        gradfit.save(model, path, categories={"x": ["1", "2"]})
    assert str(info.value) == "the category '1' of 'x' has no input among the features"
    assert not path.exists()
    gradfit.save(model, path, target_names=["y"])
    assert gradfit.load(path).target_names_ == ["y"]


def _ok(header: Any, doc: Any, data: bytes) -> tuple[Any, Any, bytes]:
    return header, doc, data


def _set(doc_edit: Any) -> Any:
    def edit(header: Any, doc: Any, data: bytes) -> tuple[Any, Any, bytes]:
        doc_edit(doc)
        return header, doc, data

    return edit


def _tensor_edit(name: str, **entry: Any) -> Any:
    def edit(header: Any, doc: Any, data: bytes) -> tuple[Any, Any, bytes]:
        header[name] |= entry
        return header, doc, data

    return edit


def _drop(name: str) -> Any:
    def edit(header: Any, doc: Any, data: bytes) -> tuple[Any, Any, bytes]:
        begin, end = header.pop(name)["data_offsets"]
        for entry in header.values():
            b, e = entry["data_offsets"]
            if b >= end:
                entry["data_offsets"] = [b - (end - begin), e - (end - begin)]
        return header, doc, data[:begin] + data[end:]

    return edit


def _add_extra(header: Any, doc: Any, data: bytes) -> tuple[Any, Any, bytes]:
    header["4.weight"] = {"dtype": "F64", "shape": [1], "data_offsets": [len(data), len(data) + 8]}
    return header, doc, data + np.ones(1).tobytes()


def _nested(key: str, value: Any) -> Any:
    return _set(lambda doc: doc["network"].__setitem__(key, value))


def _overlap(header: Any, doc: Any, data: bytes) -> tuple[Any, Any, bytes]:
    # The second tensor's span moved 8 bytes back, into the first one's.
    second = sorted(header, key=lambda k: header[k]["data_offsets"][0])[1]
    header[second]["data_offsets"] = [o - 8 for o in header[second]["data_offsets"]]
    return header, doc, data


def _gap(header: Any, doc: Any, data: bytes) -> tuple[Any, Any, bytes]:
    for entry in header.values():
        if entry["data_offsets"][0] > 0:
            entry["data_offsets"] = [o + 8 for o in entry["data_offsets"]]
    first = min(header, key=lambda k: header[k]["data_offsets"][0])
    end = header[first]["data_offsets"][1]
    return header, doc, data[:end] + bytes(8) + data[end:]


# Each case: (id, how to make the bad file from a valid one, what the message names).
HEADER_CASES = [
    ("unknown format version", _set(lambda d: d.__setitem__("version", 2)), "format version 2"),
    ("not a gradfit model", _set(lambda d: d.__setitem__("format", "other")), "format is 'other'"),
    ("unknown kind", _set(lambda d: d.__setitem__("kind", "cnn")), "kind 'cnn'"),
    ("unknown activation", _nested("activation", "swish"), "unknown activation 'swish'"),
    ("unknown dtype in spec", _nested("dtype", "float16"), "dtype 'float16'"),
    ("spec says float32", _nested("dtype", "float32"), "is float64, the network is float32"),
    ("sizes not a list", _nested("sizes", "2-3-1"), "sizes '2-3-1'"),
    ("sizes disagree with shapes", _nested("sizes", [2, 4, 1]), "has shape (3, 2)"),
    ("spec missing a field", _set(lambda d: d["network"].pop("dtype")), "must hold sizes"),
    ("missing tensor", _drop("2.bias"), "missing 2.bias"),
    ("extra tensor", _add_extra, "unexpected 4.weight"),
    ("unsupported tensor dtype", _tensor_edit("0.bias", dtype="F16"), "unsupported dtype 'F16'"),
    ("shape disagrees with offsets", _tensor_edit("0.bias", shape=[4]), "needs 32 bytes"),
    ("negative shape", _tensor_edit("0.bias", shape=[-3]), "not a list of non-negative"),
    ("offsets reversed", _tensor_edit("0.bias", data_offsets=[9, 1]), "begin <= end"),
    ("entry without offsets", _tensor_edit("0.bias", data_offsets=None), "data_offsets"),
    ("overlapping tensors", _overlap, "overlaps"),
    ("gap between tensors", _gap, "leaves a gap"),
    ("no gradfit metadata", lambda h, d, x: (h, None, x), "no __metadata__"),
    ("target_names not strings", _set(lambda d: d.__setitem__("target_names", [1])), "target"),
]


@pytest.mark.parametrize(
    ("edit", "message"), [c[1:] for c in HEADER_CASES], ids=[c[0] for c in HEADER_CASES]
)
def test_header_and_spec_errors_are_named(tmp_path: Path, edit: Any, message: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(rewrite(valid_bytes(tmp_path), edit))
    with pytest.raises(ModelFileError, match="not a valid gradfit model file") as info:
        gradfit.load(path)
    assert message in str(info.value)


def test_the_unedited_rewrite_loads(tmp_path: Path) -> None:
    # The helpers themselves make loadable files: the failures above are the edits'.
    path = tmp_path / "same.safetensors"
    path.write_bytes(rewrite(valid_bytes(tmp_path), _ok))
    assert gradfit.load(path).spec == small_net().spec


def _raw_cases(valid: bytes) -> list[tuple[str, bytes, str]]:
    header, doc, data = split(valid)
    text = json.dumps(header | {"__metadata__": {"gradfit": json.dumps(doc)}}).encode()
    return [
        ("empty file", b"", "0 bytes long"),
        ("shorter than the length field", b"\x10\x00\x00", "3 bytes long"),
        ("header larger than the file", (10**6).to_bytes(8, "little") + b"{}", "claims 1000000"),
        ("truncated data", valid[:-5], "truncated"),
        ("extra bytes at the end", valid + b"\x00" * 3, "extra bytes"),
        ("header not JSON", _with_header(b"{]}"), "not valid JSON"),
        ("header not UTF-8", (2).to_bytes(8, "little") + b"\xff\xfe", "not UTF-8"),
        ("header a JSON list", (2).to_bytes(8, "little") + b"[]", "not a JSON object"),
        ("NaN in header", (12).to_bytes(8, "little") + b'{"a": NaN}  ', "NaN"),
        ("repeated key", _with_header(b'{"a": 1, "a": 2}'), "repeats a key"),
        ("metadata without gradfit", _with_header(b'{"__metadata__": {"x": "1"}}'), "'gradfit'"),
        ("metadata not JSON", _with_header(b'{"__metadata__": {"gradfit": "{"}}'), "metadata"),
        ("metadata not text", _with_header(b'{"__metadata__": {"gradfit": 3}}'), "text values"),
        ("deeply nested header", _with_header(b"[" * 100_000 + b"]" * 100_000), "JSON"),
        ("npy file", b"\x93NUMPY\x01\x00" + bytes(100), "NumPy .npy"),
        ("header ends in junk", _with_header(text[:-1] + b"x") + data, "not valid JSON"),
    ]


def _with_header(text: bytes) -> bytes:
    return len(text).to_bytes(8, "little") + text


def test_each_raw_byte_error_is_named(tmp_path: Path) -> None:
    valid = valid_bytes(tmp_path)
    for name, raw, message in _raw_cases(valid):
        path = tmp_path / "bad.safetensors"
        path.write_bytes(raw)
        with pytest.raises(ModelFileError) as info:
            gradfit.load(path)
        assert message in str(info.value), name


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tmp_path: Path, value: float) -> None:
    raw = valid_bytes(tmp_path)
    path = tmp_path / "nan.safetensors"
    path.write_bytes(with_tensor(raw, "2.bias", np.array([value])))
    with pytest.raises(ModelFileError, match=r"tensor '2.bias' holds NaN or infinite"):
        gradfit.load(path)


def test_missing_file_folder_and_device(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such file"):
        gradfit.load(tmp_path / "absent.safetensors")
    with pytest.raises(ModelFileError, match="folder"):
        gradfit.load(tmp_path)
    with pytest.raises(ModelFileError, match="not a regular file"):
        gradfit.load("/dev/zero")


def test_header_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real limit is 100 MiB; a smaller one shows the check without such a file.
    monkeypatch.setattr(safetensors_file, "MAX_HEADER", 16)
    path = tmp_path / "big.safetensors"
    path.write_bytes(valid_bytes(tmp_path))
    with pytest.raises(ModelFileError, match="more than the 16 allowed"):
        gradfit.load(path)


class _Payload:
    """Unpickling this creates the file named by ``target``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.target,))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_is_refused_without_running_it(tmp_path: Path, protocol: int) -> None:
    target = tmp_path / "pwned"
    payload = pickle.dumps(_Payload(target), protocol=protocol)
    # The payload is live: unpickling it does create the file.
    pickle.loads(payload)
    assert target.exists()
    target.unlink()
    path = tmp_path / "model.safetensors"
    path.write_bytes(payload)
    with pytest.raises(ModelFileError, match="not a valid gradfit model file"):
        gradfit.load(path)
    assert not target.exists()


def test_a_torch_save_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"weight": [1.0]}))
    with pytest.raises(ModelFileError, match="zip archive"):
        gradfit.load(path)


def test_torch_module_saves_as_its_mlp_and_loads_into_torch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    from gradfit.torch_backend import to_torch

    net = MLP([2, 6, 1], "sigmoid", rng=np.random.default_rng(3))
    path = tmp_path / "from_torch.safetensors"
    gradfit.save(to_torch(net), path)
    back = gradfit.load(path)
    for a, b in zip(back.parameters(), net.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The tensor names are torch's, so torch reads the file with its own loader.
    module = to_torch(MLP([2, 6, 1], "sigmoid", rng=np.random.default_rng(4)))
    module.load_state_dict(load_file(str(path)))
    X = np.random.default_rng(5).normal(size=(4, 2))
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, net.forward(X), rtol=1e-13, atol=1e-15)


def test_a_valid_file_whose_first_byte_is_a_pickle_opcode_loads(tmp_path: Path) -> None:
    # A header length of 128 mod 256 makes the file start with 0x80, pickle's first byte.
    net = MLP([1, 2, 1], rng=np.random.default_rng(0))
    path = tmp_path / "model.safetensors"
    for k in range(300):
        gradfit.save(net, path, target_names=["y" * k])
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("no padding gave a header length of 128 mod 256")
    back = gradfit.load(path)
    assert isinstance(back, MLP)
    np.testing.assert_array_equal(back.parameters()[0], net.parameters()[0])


def test_save_refuses_a_read_only_file_and_keeps_a_replaced_files_mode(tmp_path: Path) -> None:
    kept = tmp_path / "kept.safetensors"
    gradfit.save(MLP([1, 8, 1], rng=np.random.default_rng(0)), kept)
    kept.chmod(0o444)
    with pytest.raises(OutputPathError) as info:
        gradfit.save(small_net(), kept)
    assert str(info.value) == (
        f"cannot write the model to '{kept}': it is read-only (no one may write it); choose "
        f"another path, or make it writable first (chmod u+w '{kept}')"
    )
    assert gradfit.load(kept).sizes == [1, 8, 1]
    kept.chmod(0o640)
    gradfit.save(small_net(), kept)
    assert kept.stat().st_mode & 0o777 == 0o640
    assert gradfit.load(kept).sizes != [1, 8, 1]
