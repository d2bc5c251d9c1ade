"""Reading annotation sheets (.xlsx, legacy .xls, .csv): one reader for every importer.

The MMME coding file, the classic data sets' label workbooks and a user's own annotation sheet
all come through :func:`read_sheet`, so a damaged or missing workbook is named the same way
everywhere and legacy ``.xls`` files (CAS(ME)^3 part A) read wherever a sheet is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mmme.errors import InputError


def read_sheet(
    path: Path,
    sheet: str | int = 0,
    *,
    header: int | None = None,
    dtype: Any = object,
    keep_na: bool = False,
    what: str = "annotation sheet",
) -> pd.DataFrame:
    """One sheet of a workbook, or a CSV, as a DataFrame.

    Parameters
    ----------
    path : Path
        ``.xlsx``, ``.xls`` or ``.csv`` file.
    sheet : str | int
        Sheet name or position (ignored for a CSV).
    header : int | None
        Row holding the column names; ``None`` keeps every row as data (row ``i`` is spreadsheet
        row ``i + 1``).
    dtype : type
        Cell type (``object`` keeps what the file holds; ``str`` reads every cell as text).
    keep_na : bool
        Read a CSV's empty cells as NaN (pandas' default) rather than ``""``.
    what : str
        What the file is, for the error message ("coding file", ...).

    Raises
    ------
    InputError
        Naming the file when it is missing or cannot be read.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, header=header, dtype=dtype, keep_default_na=keep_na)
        return pd.read_excel(
            path, sheet_name=sheet, header=header, dtype=dtype, engine=excel_engine(path)
        )
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=str(path)) from None
    except Exception as exc:  # openpyxl/calamine/zipfile raise many types for damaged files
        raise InputError(f"cannot read {what}: {exc}", file=str(path)) from exc


def sheet_names(path: Path) -> list[str]:
    """Sheet names of a workbook (``[""]`` for a CSV)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return [""]
    try:
        return list(pd.ExcelFile(path, engine=excel_engine(path)).sheet_names)
    except Exception as exc:  # damaged workbook
        raise InputError(f"cannot read workbook: {exc}", file=str(path)) from exc


def excel_engine(path: Path) -> str | None:
    """The pandas engine for a workbook: calamine for legacy ``.xls``, else pandas' default."""
    # openpyxl does not read .xls (CAS(ME)^3's second workbook); calamine does
    return "calamine" if Path(path).suffix.lower() == ".xls" else None
