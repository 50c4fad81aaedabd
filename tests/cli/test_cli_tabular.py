"""gradfit.io.tabular: reading tables into validated floats, writing CSV atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_helpers import Invoke, assert_one_line_error
from numpy.testing import assert_array_equal

from gradfit.cli.exits import Exit
from gradfit.errors import DataError
from gradfit.io.tabular import read_table, write_csv


def table_file(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_the_named_columns_as_floats_in_that_order(tmp_path: Path) -> None:
    path = table_file(tmp_path, "a,b,label\n1,2.5,x\n-3,4e-3,y\n")
    table = read_table(path)
    assert table.columns == ["a", "b", "label"]
    assert_array_equal(table.floats(["b", "a"], role="feature"), [[2.5, 1.0], [4e-3, -3.0]])


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("x,y\n1,2\n2,abc\n", ["column 'y'", "row 2 (line 3)", "'abc' is not a number"]),
        ("x,y\n1,2\n2,\n3,4\n", ["column 'y'", "row 2 (line 3)", "empty or NaN"]),
        ("x,y\n1,nan\n2,3\n", ["column 'y'", "row 1 (line 2)", "empty or NaN"]),
        ("x,y\n1,2\n-inf,3\n", ["column 'x'", "row 2 (line 3)", "infinite"]),
    ],
)
def test_a_bad_cell_is_named_by_column_and_row(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    table = read_table(table_file(tmp_path, text))
    with pytest.raises(DataError) as info:
        table.floats(["x", "y"], role="feature")
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        ("x,y\n", "a header but no data rows"),
        ("x,x\n1,2\n", "duplicate column name(s) 'x'"),
        ("x,y\n1,2\n3,4,5\n", "line 3 has 3 fields but the header names 2 columns"),
    ],
)
def test_a_file_that_is_no_table_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(DataError, match=r"data\.csv") as info:
        read_table(table_file(tmp_path, text))
    assert fragment in str(info.value)


def test_too_few_rows_says_how_many_are_needed(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"1 data row\(s\); at least 2 .* to fit a model"):
        read_table(table_file(tmp_path, "x,y\n1,2\n"), min_rows=2, purpose="fit a model")


def test_missing_file_folder_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)
    binary = tmp_path / "model.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        read_table(binary)
    for first, hint in [
        (b"\x93NUMPY\x01\x00", "this one is a NumPy .npy file; name it *.npy"),
        (b"PAR1\x15\x04", "this one is a Parquet file; name it *.parquet"),
        (b"\x1f\x8b\x08\x00", "this one is gzip-compressed; decompress it (gunzip) first"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{",
         "this one is a model or checkpoint (safetensors), not data"),
    ]:  # fmt: skip
        binary.write_bytes(first + b"\xff\x00" * 8)
        with pytest.raises(DataError) as info:
            read_table(binary)
        assert str(info.value) == (
            f"{binary}: not a UTF-8 text file, so not a CSV; gradfit reads CSV, Parquet "
            f"(.parquet, .pq) or NumPy (.npy) (Parquet and .npy by their suffix): {hint}"
        )
    latin = tmp_path / "latin.csv"  # as an older spreadsheet saves it
    latin.write_bytes("x,y\n1,2\n3,4\n5,6\ncafé,7\n".encode("cp1252"))
    with pytest.raises(DataError) as info:
        read_table(latin)
    assert str(info.value) == (
        f"{latin}: text that is not UTF-8 (byte 0xe9 on line 5), perhaps saved as Latin-1 or "
        "Windows-1252; save it as UTF-8 (e.g. iconv -f latin1 -t utf-8) and give that file"
    )


def test_missing_columns_are_all_named(tmp_path: Path) -> None:
    table = read_table(table_file(tmp_path, "x,y\n1,2\n"))
    with pytest.raises(DataError, match=r"target column\(s\) 'z', 'w' not found.*'x', 'y'"):
        table.floats(["x", "z", "w"], role="target")


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, np.inf]}).to_parquet(path)
    table = read_table(path)
    assert_array_equal(table.floats(["x"], role="feature"), [[1.0], [2.0]])
    with pytest.raises(DataError, match=r"column 'y', row 2: the value is infinite"):
        table.floats(["y"], role="target")
    not_parquet = table_file(tmp_path, "x,y\n1,2\n", name="fake.parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_table(not_parquet)


def test_written_floats_read_back_bit_for_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(500, 2)) * np.exp(rng.uniform(-300, 300, size=(500, 1)))
    path = tmp_path / "out.csv"
    write_csv(path, ["a", "b,c"], values.tolist())
    table = read_table(path)
    assert table.columns == ["a", "b,c"]
    assert_array_equal(table.floats(["a", "b,c"], role="feature"), values)


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(path, ["epoch", "loss"], [[1, 0.5]])
    before = path.read_bytes()

    def rows() -> object:
        yield [2, 0.25]
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_csv(path, ["epoch", "loss"], rows())  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_parquet_lists_and_records_are_refused_where_a_column_is_used(
    invoke: Invoke, tmp_path: Path
) -> None:
    # They were read as text: a list column became one category, a struct target one
    # class per record, and predict --keep of a list column a ValueError traceback.
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    path = tmp_path / "nested.parquet"
    pd.DataFrame(
        {"x": np.arange(40.0), "pair": [[1, 2]] * 40, "label": [{"a": 1}, {"a": 2}] * 20,
         "kind": ["a", "b"] * 20}
    ).to_parquet(path)  # fmt: skip
    model = tmp_path / "m.safetensors"
    cases = [
        (["fit", path, "--target", "kind", "--features", "pair"], "column 'pair' holds lists"),
        (["fit", path, "--target", "label", "--features", "x"], "target column 'label' holds"),
    ]
    for args, fragment in cases:
        result = invoke(*args, "--epochs", 2, "--no-plots", "--out", model)
        assert result.exit_code == Exit.BAD_DATA
        assert_one_line_error(result.stderr, fragment, "spread them into one column per number")
        assert not model.exists()
    fit = ["fit", path, "--target", "kind", "--features", "x", "--epochs", 2, "--no-plots"]
    assert invoke(*fit, "--out", model).exit_code == 0
    result = invoke("predict", model, path, "--keep", "pair", "--out", "-")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "--keep column 'pair' holds lists or records")


def test_a_npy_file_of_no_columns_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros((10, 0)))
    with pytest.raises(DataError, match=r"column\(s\) '1' not found; the file has no columns"):
        read_table(path).floats(["1"], role="target")


def _labels_csv(tmp_path: Path, spellings: list[str]) -> Path:
    """``x, lab``: 24 rows, ``lab`` cycling through ``spellings`` (written as given)."""
    rows = [f"{i / 24!r},{spellings[i % len(spellings)]}" for i in range(24)]
    return table_file(tmp_path, "x,lab\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize(
    ("spellings", "merged"),
    [
        (["a", " a", "b"], "' a' and 'a' as 'a'"),  # a space after the comma
        (["a", '" a"', "b"], "' a' and 'a' as 'a'"),  # quoted: kept by the CSV reader
        (["a", "a ", "b", " b"], "'a' and 'a ' as 'a'; ' b' and 'b' as 'b'"),
    ],
)
def test_labels_that_differ_by_spaces_alone_are_one_class_with_a_warning(
    invoke: Invoke, tmp_path: Path, spellings: list[str], merged: str
) -> None:
    """They were merged silently. Spaces around a label are no part of it (as a person
    reads it; pandas would keep ' a' apart from 'a'), and the merge is said."""
    import gradfit

    data = _labels_csv(tmp_path, spellings)
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "lab", "--epochs", 2, "--no-plots", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"gradfit: warning: {data}: column 'lab': values that differ only by the spaces around "
        f"them are read as one class: {merged}; if they are different, name them apart in the data"
    )
    assert gradfit.load(out).classes_.tolist() == ["a", "b"]


def test_category_values_that_differ_by_spaces_alone_are_one_category_with_a_warning(
    invoke: Invoke, tmp_path: Path
) -> None:
    colours = ["red", "red ", "blue"]
    rows = [f"{colours[i % 3]},{i / 24!r},{i % 2}" for i in range(24)]
    data = table_file(tmp_path, "colour,x,y\n" + "\n".join(rows) + "\n")
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "y", "--task", "regression", "--epochs", 2,
                    "--no-plots", "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"gradfit: warning: {data}: column 'colour': values that differ only by the spaces "
        "around them are read as one category: 'red' and 'red ' as 'red'; if they are "
        "different, name them apart in the data"
    )


def test_integer_labels_with_leading_zeros_are_the_same_integer_without_a_warning(
    invoke: Invoke, tmp_path: Path
) -> None:
    """'01' and '1' are the number 1, as pandas reads them: no spelling is merged."""
    import gradfit

    data = _labels_csv(tmp_path, ["1", "01", "2"])
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "lab", "--epochs", 2, "--no-plots", "--out", out)
    assert result.exit_code == 0, result.output
    assert "spaces" not in result.stderr
    assert gradfit.load(out).classes_.tolist() == [1, 2]


def test_a_word_read_as_missing_is_named_with_what_to_do_in_a_text_column(
    tmp_path: Path, invoke: Invoke
) -> None:
    """A class or category written None or NA (pandas' words for missing) was counted as
    '(empty or NaN)' with no word of why: the cell the user saw held a value."""
    labels = ["None", "Mild", "Severe"] * 4
    rows = [f"{i},{i % 5},{label}" for i, label in enumerate(labels)]
    data = table_file(tmp_path, "x,z,severity\n" + "\n".join(rows) + "\n")
    model = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "severity", "--out", model, "--epochs", "2")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        f"{data}: 4 missing cell(s) (empty or NaN): column 'severity' 4 (the first at row 1 "
        "(line 2); written 'None'); fill them, or leave those rows out (fit --drop-missing); "
        "a cell written 'None' is read as missing, as pandas reads it: where 'None' is a value "
        "of column 'severity' (a class or category of that name), rename it in the file, e.g. "
        "to 'none'",
    )
    assert not model.exists()


def test_a_word_read_as_missing_in_a_numeric_column_is_named_without_the_rename_advice(
    tmp_path: Path,
) -> None:
    table = read_table(table_file(tmp_path, "x,y\n1,2\nNA,3\n,4\nnull,5\nNaN,6\n"))
    with pytest.raises(DataError) as info:
        table.floats(["x", "y"], role="feature")
    assert str(info.value) == (
        f"{tmp_path / 'data.csv'}: 4 missing cell(s) (empty or NaN): column 'x' 4 (the first "
        "at row 2 (line 3); written 'NA', 'null'); fill them, or leave those rows out "
        "(fit --drop-missing)"
    )


def test_a_header_repeated_in_the_rows_says_so(tmp_path: Path) -> None:
    """Two CSVs joined with cat leave the second header as a row: "'x' is not a number"
    named the cell but not why it was there."""
    one = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(5))
    data = table_file(tmp_path, one + one, "joined.csv")
    table = read_table(data)
    with pytest.raises(DataError) as info:
        table.floats(["x", "y"], role="feature")
    assert str(info.value) == (
        f"{data}: column 'x', row 6 (line 7): 'x' is not a number; the row repeats the "
        "header, as files joined one after the other (cat a.csv b.csv) leave it: delete "
        "that line"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "x,y,\n1,2,\n3,4,\n",
            "column 3 of the header has no name: the header ends in a comma. If every line "
            "does (a trailing comma, as some exports write), delete the trailing commas; else "
            "name that column",
        ),
        (
            "x;y\n1,5;2,5\n3,1;4,2\n",
            "line 2 has 3 fields but the header names 1 column ('x;y'): the file separates "
            "its values by semicolons (and its decimals by commas, perhaps), and gradfit "
            "reads commas. Save it as comma-separated (CSV) first",
        ),
    ],
)
def test_a_trailing_comma_and_decimal_commas_say_what_the_file_does(
    tmp_path: Path, text: str, message: str
) -> None:
    """A trailing comma on every line was 'column 3 of the header has no name; name every
    column' (a column the user cannot see); semicolons with decimal commas 'line 2 has 3
    fields but the header names 1 columns; fix that row'."""
    path = table_file(tmp_path, text)
    with pytest.raises(DataError) as info:
        read_table(path)
    assert str(info.value) == f"{path}: {message}"


def test_a_parquet_files_integer_column_names_are_named_as_text(
    tmp_path: Path, invoke: Invoke
) -> None:
    """A Parquet file written from a DataFrame with columns 0 and 1 reads back with
    integer names: --target 1 was "target column(s) '1' not found; the file has '0', '1'"."""
    pytest.importorskip("pyarrow")
    import pandas as pd

    x = np.linspace(-2, 2, 30)
    path = tmp_path / "numbered.parquet"
    pd.DataFrame({0: x, 1: np.sin(x)}).to_parquet(path)
    assert read_table(path).columns == ["0", "1"]
    out = tmp_path / "m.safetensors"
    result = invoke("fit", path, "--target", 1, "--out", out, "--epochs", 2, "--no-plots")
    assert result.exit_code == Exit.OK, result.stderr
    predicted = tmp_path / "p.csv"
    assert invoke("predict", out, path, "--out", predicted, "--chunk-rows", 7).exit_code == 0
    assert predicted.read_text().splitlines()[0] == "1"
    assert len(predicted.read_text().splitlines()) == 31


def test_names_of_a_npy_file_and_of_a_header_say_that_they_differ(
    tmp_path: Path, invoke: Invoke
) -> None:
    """A model fitted on named columns given a .npy file said "feature column(s) 'x' not
    found; the file has '0', '1'", and one fitted on a .npy file given a CSV the same of
    '0': nothing said why names and indices met."""
    x = np.linspace(-2, 2, 30)
    npy, csv_file = tmp_path / "a.npy", tmp_path / "a.csv"
    np.save(npy, np.column_stack([x, np.sin(x)]))
    csv_file.write_text("x,y\n" + "".join(f"{a},{np.sin(a)}\n" for a in x.tolist()))
    named, numbered = tmp_path / "named.safetensors", tmp_path / "numbered.safetensors"
    for data, target, out in ((csv_file, "y", named), (npy, "1", numbered)):
        fitted = invoke("fit", data, "--target", target, "--out", out, "--epochs", 1, "--no-plots")
        assert fitted.exit_code == Exit.OK, fitted.stderr
    result = invoke("predict", named, npy, "--out", tmp_path / "p.csv")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        f"{npy}: feature column(s) 'x' not found; the file has '0', '1'; a .npy file has no "
        "column names: its columns are named by their index (0, 1, …); give a CSV or Parquet "
        "file whose header names them",
    )
    result = invoke("predict", numbered, csv_file, "--out", tmp_path / "p.csv")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        f"{csv_file}: feature column(s) '0' not found; the file has 'x', 'y'; names such as "
        "'0' are how a .npy file's columns are named (by their index): a model fitted on one "
        "reads .npy files of its columns in that order",
    )


@pytest.mark.parametrize(
    ("header", "asked", "near"),
    [("x,CRIM,y", "crim", "'CRIM' (for 'crim')"), ("x, y", " y", "'y' (for ' y')")],
)
def test_a_name_that_differs_in_case_or_spaces_names_the_column_meant(
    tmp_path: Path, header: str, asked: str, near: str
) -> None:
    """--target ' y' of a header 'x, y' (whose names are read without the spaces) and a
    model's 'crim' in a file saying 'CRIM' were only 'not found'."""
    n = header.count(",") + 1
    rows = "".join(",".join(str(r * n + j) for j in range(n)) + "\n" for r in range(2))
    table = read_table(table_file(tmp_path, f"{header}\n{rows}"))
    with pytest.raises(DataError) as info:
        table.require([asked], role="feature")
    assert str(info.value).endswith(
        f"; did you mean {near}? Names are matched exactly, case and all, and the header's "
        "names without the spaces around them"
    )


def test_a_category_or_label_that_differs_only_in_case_names_the_one_meant(
    tmp_path: Path, invoke: Invoke
) -> None:
    """'Red' in a file to predict, where the model knows 'red', and a label 'Setosa' to
    score against the class 'setosa', were only 'not seen in training' / 'not among the
    model's classes'."""
    x = np.linspace(-2, 2, 40)
    colour = ["red", "blue"] * 20
    train = tmp_path / "train.csv"
    train.write_text("x,colour,y\n" + "".join(
        f"{a},{c},{c}\n" for a, c in zip(x.tolist(), colour, strict=True)))  # fmt: skip
    fitted = invoke("fit", train, "--target", "y", "--out", tmp_path / "clf.safetensors",
                    "--epochs", 1, "--no-plots")  # fmt: skip
    assert fitted.exit_code == Exit.OK, fitted.stderr
    new = tmp_path / "new.csv"
    new.write_text("x,colour,y\n0.5,Red,red\n1.5,red,Blue\n")
    result = invoke("predict", tmp_path / "clf.safetensors", new, "--out", tmp_path / "p.csv")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        f"{new}: column 'colour', row 1 (line 2): the category 'Red' was not seen in training "
        "(known: 'blue', 'red'; 1 such cell(s)), which differs from 'red' only in case; pass "
        "--unseen-categories other to encode it as none of the known values, or write it "
        "'red' as in training",
    )
    new.write_text("x,colour,y\n0.5,red,red\n1.5,red,Blue\n")
    result = invoke("evaluate", tmp_path / "clf.safetensors", new)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        f"{new} column 'y': label(s) 'Blue' are not among the model's classes ('blue', 'red'); "
        "'Blue' differs from the class 'blue' only in case; score only rows of those classes, "
        "or refit on data that has these labels",
    )


def test_drop_missing_says_the_words_the_dropped_cells_were_written_as(
    tmp_path: Path, invoke: Invoke
) -> None:
    """--drop-missing left out every row of a class written 'None', saying only 'column
    'severity': 4', with no word that those cells held a value."""
    labels = ["None", "Mild", "Severe"] * 4
    rows = [f"{i},{label}" for i, label in enumerate(labels)]
    data = table_file(tmp_path, "x,severity\n" + "\n".join(rows) + "\n")
    result = invoke("fit", data, "--target", "severity", "--out", tmp_path / "m.safetensors",
                    "--epochs", 1, "--no-plots", "--drop-missing")  # fmt: skip
    assert result.exit_code == Exit.OK, result.stderr
    assert (
        "gradfit: note: dropped 4 of 12 rows with missing cells (column 'severity': 4 written "
        "'None'); 8 rows remain"
    ) in result.stderr
