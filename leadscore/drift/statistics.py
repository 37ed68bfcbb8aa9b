"""PSI, the Kolmogorov-Smirnov and chi-square tests, and the status they give a feature.

PSI = sum over bins of (c - r) ln(c / r) of the shares, each floored at ``drift_psi_floor``.
Sampling noise alone gives a PSI of about (bins - 1) x (1/n_ref + 1/n_cur), so ``watch`` and
``alert`` (PSI at or above ``drift_psi_watch`` / ``drift_psi_alert``) also need the
chi-square test of the same bins (tiny bins pooled) to reject "same distribution" at
``drift_max_p_value`` divided by the number of features compared (Bonferroni: noise flags
any feature of a run with a chance of at most ``drift_max_p_value``); KS is reported for
reading only. DECISIONS.md: "Drift needs a significant shift, not just a large PSI"."""

from __future__ import annotations

import numpy as np
from scipy import stats

from leadscore.drift.bins import Bins
from leadscore.drift.config import DriftConfig

# categories whose expected count is below this in either population are pooled into one
# column before the chi-square test (Cochran's rule of thumb)
CHI2_MIN_EXPECTED = 5.0


def psi_contributions(
    reference_counts: np.ndarray, current_counts: np.ndarray, floor: float
) -> np.ndarray:
    """Per bin (c - r) · ln(c / r) of the shares r (reference) and c (current), each share
    raised to at least ``floor`` so an empty bin gives a large but finite term."""
    r = np.maximum(reference_counts / reference_counts.sum(), floor)
    c = np.maximum(current_counts / current_counts.sum(), floor)
    return (c - r) * np.log(c / r)


def psi(reference_counts: np.ndarray, current_counts: np.ndarray, floor: float) -> float:
    """Population stability index of two binned samples (0 = identical shares)."""
    return float(psi_contributions(reference_counts, current_counts, floor).sum())


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float] | None:
    """Two-sample Kolmogorov-Smirnov statistic and p-value on the non-NaN values; None when
    either side has none."""
    ref = reference[~np.isnan(reference)]
    cur = current[~np.isnan(current)]
    if ref.size == 0 or cur.size == 0:
        return None
    result = stats.ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def chi_square(bins: Bins) -> tuple[float, float, int] | None:
    """Chi-square test of the 2 x k contingency table (reference, current) x bins. Bins
    empty on both sides are dropped, those whose expected count is below
    ``CHI2_MIN_EXPECTED`` in either population are pooled into one; None when fewer than two
    bins remain (nothing to test)."""
    table = np.vstack([bins.reference, bins.current]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    totals = table.sum(axis=0)
    expected_min = totals * table.sum(axis=1).min() / table.sum()
    small = expected_min < CHI2_MIN_EXPECTED
    pooled = table[:, ~small]
    if small.any():
        pooled = np.column_stack([pooled, table[:, small].sum(axis=1)])
    if pooled.shape[1] < 2:
        return None
    result = stats.chi2_contingency(pooled)
    return float(result.statistic), float(result.pvalue), int(result.dof)


def drift_status(
    value: float | None, p_value: float | None, config: DriftConfig, n_features: int = 1
) -> str:
    """ok / watch / alert from the PSI thresholds, but ok when the chi-square test of the
    same bins does not confirm the difference (p-value at least ``max_p_value /
    n_features``, or too few rows for a test: None); no_data without a PSI."""
    if value is None:
        return "no_data"
    if p_value is None or p_value >= config.max_p_value / n_features:
        return "ok"
    if value >= config.psi_alert:
        return "alert"
    return "watch" if value >= config.psi_watch else "ok"
