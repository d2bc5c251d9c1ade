"""``mmme physio STORE`` on a synthetic store: EEG band power / DE per event, planted alpha drop.

The synthetic set plants a posterior alpha decrease (O1/PO3 and O2/PO4 sources) 0.1-1.6 s after
an expression onset for most expressions (``ground_truth_responses.csv``); the store-level EEG
event features (2 s baseline before onset vs 2 s response after it) must show it on average.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from mmme.data.store import Store
from mmme.eeg.features import BANDS
from mmme.executor import Executor
from mmme.io.mmme import import_mmme
from mmme.physio.pipeline import process_store
from mmme.synth.generate import SynthConfig, generate

# 72 expressions (about 50 with a planted alpha decrease): enough for the average drop to stand
# out of the 2 s windows' power fluctuations. Small frames at 20 fps keep generation fast.
CFG = dataclasses.replace(
    SynthConfig.tiny(), subjects=2, trials_per_subject=12, coupling=1.0, fps=20.0, size=(64, 64),
    trial_s=8.0, rest_s=1.0, me_per_trial=2, mae_per_trial=1,
)
POSTERIOR = ("O1", "OZ", "O2", "PO3", "POZ", "PO4")
KEY = ["subject", "trial", "event"]


def build(root, cfg: SynthConfig = CFG) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Synthesize, import and run the physio pipeline; (EEG rows, annotations, responses)."""
    raw = generate(root / "raw", cfg, n_jobs=1, progress=False)
    store = import_mmme(raw, root / "store", executor=Executor(n_jobs=1, progress=False))
    process_store(store.path, {"pad_s": 5.0}, n_jobs=1, progress=False)
    ev = pd.read_parquet(store.cache_dir("physio") / "events.parquet")
    truth = pd.read_csv(raw / "ground_truth.csv", dtype={"trial": str})
    truth["row"] = np.arange(len(truth))
    ann = Store(store.path).annotations.merge(
        truth[["subject", "trial", "onset_frame", "row"]], on=["subject", "trial", "onset_frame"],
        how="left", validate="one_to_one")
    responses = pd.read_csv(raw / "ground_truth_responses.csv", dtype={"trial": str})
    return ev[ev["kind"] == "eeg"], ann, responses


def alpha_log_ratio(eeg: pd.DataFrame, channels=POSTERIOR) -> pd.Series:
    """Per event: mean over ``channels`` of log(response / baseline alpha power)."""
    a = eeg[(eeg["feature"] == "alpha_power") & eeg["channel"].isin(channels)]
    p = a.pivot_table(index=[*KEY, "channel"], columns="window", values="value")
    return np.log(p["response"] / p["baseline"]).groupby(level=KEY).mean()


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return build(tmp_path_factory.mktemp("physio_eeg"))


def test_store_eeg_features_per_event(synth):
    eeg, ann, _ = synth
    assert ann["row"].notna().all()  # every annotation is a planted expression
    groups = eeg.groupby([*KEY, "window"])
    assert groups.ngroups == 2 * len(ann)  # baseline + response for each of the 72 events
    feats = {f"{b}_{k}" for b in BANDS for k in ("power", "de")}
    for _, g in groups:
        assert len(g) == 620 and g["value"].map(np.isfinite).all()
        assert g["channel"].nunique() == 62 and not {"M1", "M2"} & set(g["channel"])
        assert (g.groupby("feature").size() == 62).all() and set(g["feature"]) == feats
    # windows: 2 s before / after each annotation's onset
    w = eeg.drop_duplicates([*KEY, "window"]).merge(ann[[*KEY, "onset_s"]], on=KEY)
    rel = w["start_s"] - w["onset_s"]
    assert np.allclose(rel[w["window"] == "baseline"], -2.0)
    assert np.allclose(rel[w["window"] == "response"], 0.0)
    assert np.allclose(w["stop_s"] - w["start_s"], 2.0)
    # differential entropy of a Gaussian band signal: 0.5 log(2 pi e P)
    band = eeg["feature"].str.rsplit("_", n=1).str[0]
    kind = eeg["feature"].str.rsplit("_", n=1).str[1]
    wide = eeg.assign(band=band, k=kind).pivot_table(
        index=[*KEY, "window", "channel", "band"], columns="k", values="value")
    assert (wide["power"] > 0).all()
    np.testing.assert_allclose(wide["de"], 0.5 * np.log(2 * np.pi * np.e * wide["power"]))


def test_store_eeg_planted_posterior_alpha_decrease(synth):
    eeg, ann, responses = synth
    planted_rows = set(responses.loc[responses["kind"] == "alpha_decrease", "event"])
    ratio = alpha_log_ratio(eeg).rename("r").reset_index().merge(ann[[*KEY, "row"]], on=KEY)
    planted = ratio["row"].isin(planted_rows)
    assert planted.sum() >= 40 and (~planted).sum() >= 10
    drop, control = ratio.loc[planted, "r"].mean(), ratio.loc[~planted, "r"].mean()
    # planted: alpha amplitude x (1 - 0.2..0.7) around 0.6 s -> posterior power down by ~25 %
    assert drop < -0.15, f"mean log power ratio {drop:.3f}"
    assert drop < control - 0.15, f"planted {drop:.3f} vs others {control:.3f}"
