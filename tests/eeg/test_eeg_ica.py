"""ICA removal of planted blinks (HEO/VEO) against the same recording simulated without them."""

from __future__ import annotations

import numpy as np
import pytest

from mmme.eeg import band_power, make_raw, preprocess_raw, remove_eog_ica
from mmme.errors import InputError
from mmme.synth.eeg import EEG_CHANNELS, simulate_eeg

FS = 250.0
POSTERIOR = ["O1", "O2", "OZ", "PO3", "PO4"]

# The synthetic background is Gaussian (1/f noise), which FastICA separates slowly.
pytestmark = pytest.mark.filterwarnings("ignore:FastICA did not converge")


@pytest.fixture(scope="module")
def blinky():
    """20 s with 6 blinks, and the same seed without blinks (identical brain signals)."""
    blinks = [(t, 0.3) for t in (2.0, 5.0, 8.0, 11.0, 14.0, 17.0)]
    n = int(20 * FS)
    x = simulate_eeg(n, FS, [], blinks, np.random.default_rng(5))
    truth = simulate_eeg(n, FS, [], [], np.random.default_rng(5))
    raw = make_raw(x, FS, list(EEG_CHANNELS))
    kept = preprocess_raw(raw, eog=None)
    clean = preprocess_raw(make_raw(truth, FS, list(EEG_CHANNELS)), eog=None)
    return raw, kept, clean


def _veo_corr(r, ch: str) -> float:
    return abs(np.corrcoef(r.get_data(picks=ch)[0], r.get_data(picks="VEO")[0])[0, 1])


def test_eog_ica_removes_blinks_and_keeps_alpha(blinky):
    raw, kept, clean = blinky
    ica = preprocess_raw(raw, eog="ica")
    for ch in ("FP1", "FP2"):
        assert _veo_corr(kept, ch) > 0.5
        assert _veo_corr(ica, ch) < 0.3 * _veo_corr(kept, ch)
        # closer to the blink-free ground truth than the uncorrected channel
        err_kept = np.std(kept.get_data(picks=ch) - clean.get_data(picks=ch))
        err_ica = np.std(ica.get_data(picks=ch) - clean.get_data(picks=ch))
        assert err_ica < 0.5 * err_kept
    # posterior alpha (no blink leakage there) is preserved
    alpha = [band_power(r.get_data(picks=POSTERIOR), FS, seg_s=2.0)[:, 2] for r in (ica, clean)]
    assert alpha[0] == pytest.approx(alpha[1], rel=0.05)
    # EOG channels are references, not cleaned
    np.testing.assert_array_equal(ica.get_data(picks="VEO"), kept.get_data(picks="VEO"))


def test_remove_eog_ica_is_reproducible_and_in_place(blinky):
    _, kept, _ = blinky
    a, b = kept.copy(), kept.copy()
    ex_a = remove_eog_ica(a, ("VEO",), n_components=0.99, random_state=3)
    ex_b = remove_eog_ica(b, ("VEO",), n_components=0.99, random_state=3)
    assert ex_a == ex_b and len(ex_a) >= 1
    np.testing.assert_allclose(a.get_data(), b.get_data())
    assert _veo_corr(a, "FP1") < 0.3 * _veo_corr(kept, "FP1")


def test_eog_ica_bad_input(blinky):
    raw, kept, _ = blinky
    with pytest.raises(InputError, match="VEO"):
        preprocess_raw(raw.copy().drop_channels(["VEO"]), eog="ica")
    with pytest.raises(InputError, match="HEO"):
        remove_eog_ica(kept.copy().drop_channels(["HEO"]))
    with pytest.raises(InputError, match="n_components"):
        remove_eog_ica(kept.copy(), n_components=64)
    with pytest.raises(InputError, match="'ica'"):
        preprocess_raw(raw, eog="pca")
