"""One sheet reader: .xlsx, legacy .xls and .csv read alike; damaged or missing files named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import xlwt

from mmme.errors import InputError
from mmme.io.coding import read_coding_file
from mmme.io.sheets import read_sheet, sheet_names

ROWS = [["Subject", "Onset"], ["S01", "12"], ["S02", ""]]


def _write(path: Path) -> Path:
    if path.suffix == ".xls":
        book = xlwt.Workbook()
        ws = book.add_sheet("label")
        for r, row in enumerate(ROWS):
            for c, v in enumerate(row):
                ws.write(r, c, v)
        book.save(str(path))
    elif path.suffix == ".xlsx":
        pd.DataFrame(ROWS).to_excel(path, sheet_name="label", header=False, index=False)
    else:
        pd.DataFrame(ROWS).to_csv(path, header=False, index=False)
    return path


@pytest.mark.parametrize("suffix", [".xls", ".xlsx", ".csv"])
def test_every_format_reads_the_same_cells(tmp_path: Path, suffix: str) -> None:
    path = _write(tmp_path / f"s{suffix}")
    raw = read_sheet(path, "label" if suffix != ".csv" else 0)
    assert raw.shape == (3, 2)
    assert raw.iloc[1, 0] == "S01"
    assert str(raw.iloc[1, 1]).removesuffix(".0") == "12"
    with_header = read_sheet(path, 0, header=0, dtype=str)
    assert list(with_header.columns) == ["Subject", "Onset"]
    assert list(with_header["Subject"]) == ["S01", "S02"]
    assert sheet_names(path) == ([""] if suffix == ".csv" else ["label"])


def test_missing_and_damaged_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.xlsx: coding file not found"):
        read_sheet(tmp_path / "nope.xlsx", what="coding file")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(InputError, match=r"bad\.xlsx: cannot read annotation sheet"):
        read_sheet(bad)
    with pytest.raises(InputError, match=r"bad\.xlsx: cannot read coding file"):
        read_coding_file(bad)
