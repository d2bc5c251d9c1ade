"""MAT v5 matrices are memory-mapped, not read whole; compressed files fall back to scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from mmme.io.matfile import mat5_matrix
from mmme.io.mmme import read_biopac_mat


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16, np.uint8])
def test_uncompressed_matrix_is_mapped_exactly(tmp_path, dtype):
    data = (np.random.default_rng(1).standard_normal((1001, 5)) * 50).astype(dtype)
    path = tmp_path / "x.mat"
    savemat(path, {"labels": np.array(["a"]), "data": data, "isi": 1.0})
    mm = mat5_matrix(path, "data")
    assert isinstance(mm, np.memmap) and mm.shape == data.shape
    np.testing.assert_array_equal(np.asarray(mm), loadmat(path)["data"])
    assert mat5_matrix(path, "missing") is None
    assert mat5_matrix(path, "labels") is None  # a char matrix is not numeric


def test_compressed_and_non_mat_files_give_none(tmp_path):
    savemat(tmp_path / "c.mat", {"data": np.ones((10, 3))}, do_compression=True)
    assert mat5_matrix(tmp_path / "c.mat", "data") is None
    (tmp_path / "n.mat").write_bytes(b"not a mat file" * 20)
    assert mat5_matrix(tmp_path / "n.mat", "data") is None


@pytest.mark.parametrize("compress", [False, True])
def test_biopac_reader_same_either_way(tmp_path, compress):
    data = np.random.default_rng(2).standard_normal((500, 2))
    labels = np.array(["ECG, X, RSPEC-R", "EDA, X, PPGED-R"])
    path = tmp_path / "b.mat"
    savemat(
        path,
        {
            "data": data,
            "labels": labels,
            "units": np.array(["mV", "uS"]),
            "isi": 1.0,
            "isi_units": "ms",
        },
        do_compression=compress,
    )
    bp = read_biopac_mat(path)
    assert isinstance(bp["data"], np.memmap) != compress
    np.testing.assert_array_equal(np.asarray(bp["data"]), data)
    assert bp["names"] == ["ECG", "EDA"] and bp["sfreq"] == pytest.approx(1000.0)


def test_markers_across_chunk_edges_are_decoded_once(tmp_path):
    """Edges on either side of the 60 s chunk boundary, one with a bit settling late."""
    from mmme.io.mmme import _write_physio

    n = 150_000  # 2.5 min at 1 kHz: chunks end at samples 60000 and 120000
    labels = ["ECG, X, RSPEC-R"] + [f"Digital (STP Input {i})" for i in range(8)]
    data = np.zeros((n, 9))
    data[:, 0] = np.sin(np.arange(n) / 100)
    planted = {59_999: 101, 60_100: 100, 119_998: 137, 149_990: 100}
    for start, code in planted.items():
        for bit in range(8):
            if code >> bit & 1:
                late = 1 if bit == 0 else 0  # bit 0 rises one sample after the others
                data[start + late : start + 8, 1 + bit] = 5.0
    path = tmp_path / "p.mat"
    savemat(path, {"data": data, "labels": np.array(labels), "isi": 1.0, "isi_units": "ms"})
    (tmp_path / "out").mkdir()
    markers, stream = _write_physio(path, tmp_path / "out", tmp_path, [])
    assert markers["code"].tolist() == list(planted.values())
    np.testing.assert_allclose(markers["time"], np.array(list(planted)) / 1000.0)
    stored = np.load(tmp_path / "out" / "physio.npy", allow_pickle=False)
    assert stream["ch_names"] == ["ECG"] and stored.shape == (n, 1)
    np.testing.assert_allclose(stored[:, 0], data[:, 0].astype(np.float32))
