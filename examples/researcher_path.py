"""Store -> samples -> epochs and features -> leave-one-subject-out cross-validation.

    python examples/researcher_path.py STORE    # after `mmme physio STORE`
"""

import sys

import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mmme

store = mmme.read_store(sys.argv[1])
samples = mmme.data.Samples.from_store(store, types=None, label="emotion3")
print(samples.epochs("eeg", tmin=-0.5, tmax=1.5, at="onset"))  # mne.Epochs, one per sample
X = pd.concat([samples.physio_features(), samples.eeg_features(tmin=0.0, tmax=1.0)], axis=1)
model = make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler(),
                      LogisticRegression(max_iter=1000))
scores = cross_val_score(model, X, samples.y, groups=samples.groups, cv=LeaveOneGroupOut())
print(f"{len(samples)} samples, {X.shape[1]} features, LOSO accuracy {scores.mean():.2f}")
