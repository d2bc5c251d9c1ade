"""Memory-map a numeric matrix inside a MATLAB v5 ``.mat`` file, without reading it.

BIOPAC AcqKnowledge exports a whole session as one ``data`` matrix (73 minutes x 17 channels at
1 kHz is 600 MB as doubles). :func:`scipy.io.loadmat` can only read it whole; an uncompressed
MAT v5 matrix, though, is one contiguous column-major block, so it can be memory-mapped and read
in chunks. Compressed variables (and MAT v7.3, which is HDF5) return ``None``: callers then load
the variable with scipy.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_MI_INT32, _MI_MATRIX, _MI_COMPRESSED = 5, 14, 15
#: MAT v5 storage types of numeric data -> numpy dtypes (the byte order is added per file).
_MI_DTYPES = {
    1: "i1",
    2: "u1",
    3: "i2",
    4: "u2",
    5: "i4",
    6: "u4",
    7: "f4",
    9: "f8",
    12: "i8",
    13: "u8",
}


def _pad8(n: int) -> int:
    return (n + 7) // 8 * 8


def mat5_matrix(path: str | Path, name: str) -> np.memmap | None:
    """A read-only memory map of the real, numeric, 2-D variable ``name`` of a MAT v5 file.

    Returns ``None`` when the file is not MAT v5, the variable is absent, compressed, complex,
    sparse or not 2-D.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(128)
        if len(header) < 128 or header[126:128] not in (b"IM", b"MI"):
            return None
        endian = "<" if header[126:128] == b"IM" else ">"
        if struct.unpack(endian + "H", header[124:126])[0] != 0x0100:
            return None  # not version 5 (v7.3 files are HDF5 with another header)
        pos = 128
        while pos + 8 <= size:
            fh.seek(pos)
            mtype, nbytes = struct.unpack(endian + "II", fh.read(8))
            nxt = pos + 8 + _pad8(nbytes)
            if mtype == _MI_MATRIX:
                found = _matrix(fh, pos + 8, endian, name)
                if found is not None:
                    dtype, shape, offset = found
                    return np.memmap(
                        path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F"
                    )
            elif mtype != _MI_COMPRESSED and (mtype >> 16):
                nxt = pos + 8  # small data element at top level (not a variable)
            pos = nxt
    return None


def _element(fh, pos: int, endian: str) -> tuple[int, int, int, int]:  # noqa: ANN001
    """``(type, nbytes, data offset, next element offset)`` of the element at ``pos``."""
    fh.seek(pos)
    word, nbytes = struct.unpack(endian + "II", fh.read(8))
    if word >> 16:  # small element: type and size in the first word, data in the second
        return word & 0xFFFF, word >> 16, pos + 4, pos + 8
    return word, nbytes, pos + 8, pos + 8 + _pad8(nbytes)


def _matrix(fh, pos: int, endian: str, name: str) -> tuple[str, tuple[int, ...], int] | None:  # noqa: ANN001
    _, _, flags_at, pos = _element(fh, pos, endian)  # array flags
    fh.seek(flags_at)
    flags = struct.unpack(endian + "I", fh.read(4))[0]
    mx_class, complex_ = flags & 0xFF, bool(flags & 0x0800)
    dtype_d, nbytes, dims_at, pos = _element(fh, pos, endian)
    if dtype_d != _MI_INT32:
        return None
    fh.seek(dims_at)
    dims = struct.unpack(endian + "i" * (nbytes // 4), fh.read(nbytes))
    _, nlen, name_at, pos = _element(fh, pos, endian)
    fh.seek(name_at)
    if fh.read(nlen).decode("latin-1") != name:
        return None
    # numeric classes are 6 (double) .. 15 (uint64); cell/struct/char/sparse are not
    if complex_ or not 6 <= mx_class <= 15 or len(dims) != 2:
        return None
    mtype, nbytes, data_at, _ = _element(fh, pos, endian)
    if mtype not in _MI_DTYPES:
        return None
    dtype = np.dtype(endian + _MI_DTYPES[mtype])
    if nbytes != dtype.itemsize * dims[0] * dims[1]:
        return None
    return dtype.str, (int(dims[0]), int(dims[1])), data_at
