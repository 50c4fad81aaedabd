"""What a table's errors add to say why: a name that differs in case or spaces, a file
of another separator, a ``.npy`` file's index names, a header repeated in the rows, the
words that cells read as missing were written as.

Each function returns the end of a :class:`~gradfit.errors.DataError`'s message
(``"; …"``), or ``""`` where it has nothing to add; :mod:`gradfit.io.table` calls them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gradfit.io.csvfile import SEPARATORS


def index_hint(path: Path, missing: Sequence[str]) -> str:
    """What to say where the names asked for and those of the file at ``path`` are of
    different kinds: a ``.npy`` file's columns are named by their index, other files' by
    their header."""
    npy = path.suffix.lower() == ".npy"
    if npy and not all(str(m).isdigit() for m in missing):
        return (
            "; a .npy file has no column names: its columns are named by their index "
            "(0, 1, …); give a CSV or Parquet file whose header names them"
        )
    if not npy and "0" in missing and all(str(m).isdigit() for m in missing):
        # Column '0' is the first input of a model fitted on a .npy file (--target 3 of a
        # CSV is a typo, not that).
        return (
            "; names such as '0' are how a .npy file's columns are named (by their "
            "index): a model fitted on one reads .npy files of its columns in that order"
        )
    return ""


def near_names(columns: Sequence[str], missing: Sequence[str]) -> str:
    """The columns that a missing name matches but for case or the spaces around it
    (``'CRIM'`` for ``'crim'``; ``'y'`` for ``' y'``, as the header's spaces are dropped)."""
    by_key = {str(c).strip().casefold(): str(c) for c in columns}
    pairs = [(m, by_key[k]) for m in missing if (k := str(m).strip().casefold()) in by_key]
    if not pairs:
        return ""
    shown = ", ".join(f"{near!r} (for {m!r})" for m, near in pairs)
    return (
        f"; did you mean {shown}? Names are matched exactly, case and all, and the "
        "header's names without the spaces around them"
    )


def separator_hint(columns: Sequence[str], missing: Sequence[str]) -> str:
    """When the header is one column holding a missing name between ``;``, tabs or ``|``
    (a file of another separator, read as comma-separated), what to do about it."""
    if len(columns) != 1:
        return ""
    for sep, name in SEPARATORS:
        if sep in str(columns[0]) and any(m in str(columns[0]).split(sep) for m in missing):
            return (
                f"; its header is one column: the file separates its values by {name}, and "
                "gradfit reads commas. Save it as comma-separated (CSV) first"
            )
    return ""


def header_again(name: str, cell: object) -> str:
    """What to say where a cell holds its own column's name: the header repeated in the
    rows, as two files joined one after the other (``cat a.csv b.csv``) leave it."""
    if str(cell).strip() != name:
        return ""
    return (
        "; the row repeats the header, as files joined one after the other (cat a.csv "
        "b.csv) leave it: delete that line"
    )


def written_as(words: Sequence[str], lead: str = "; ") -> str:
    """``; written 'None'`` (after ``lead``): the words a column's missing cells are
    written as, if any."""
    if not words:
        return ""
    shown = sorted(set(words))
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return f"{lead}written {', '.join(map(repr, shown[:3]))}{more}"
