"""Event-related analysis: what brain and body do around micro- and macro-expressions.

``analyze_store(STORE, OUT)`` (``mmme analyze``) writes grand averages with 95 % CIs, paired
tests with effect sizes, EEG cluster permutation tests, the HR slope at ME apex, ME vs MaE and
the ME intensity association (:mod:`mmme.analysis.run` says how multiple comparisons are
controlled).
"""

from mmme.analysis.erp import DEFAULT_PARAMS, EEG_BANDS, LOCKS, MEASURES, region_of
from mmme.analysis.run import analyze, analyze_store, cluster_test
from mmme.analysis.stats import holm, mean_ci, one_sample, spearman, two_sample, wilcoxon

__all__ = ["DEFAULT_PARAMS", "EEG_BANDS", "LOCKS", "MEASURES", "analyze", "analyze_store",
           "cluster_test", "holm", "mean_ci", "one_sample", "region_of", "spearman",
           "two_sample", "wilcoxon"]
