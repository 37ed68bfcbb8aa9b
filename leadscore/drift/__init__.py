"""Feature drift: today's scoring population against the scoring model's training reference,
the table of dbt model ``feature_drift`` (``models/monitoring/feature_drift.py`` calls
``drift_of_run``). Everything but ``reading`` and ``run`` is a pure function on numpy arrays
and pyarrow tables.

Modules, each importing only those above it:

- ``config``: ``DriftConfig``, the drift vars (through ``leadscore.settings``).
- ``bins``: binning one feature in both populations.
- ``statistics``: PSI, the KS and chi-square tests, the status.
- ``compare``: one feature, all features (``compare_populations``, ``DRIFT_SCHEMA``).
- ``reading``: the reference and current rows, read from DuckDB.
- ``run``: which model and features, its importance; the dbt model's entry points.

Why the populations and the status are what they are: DECISIONS.md, "Drift and performance
compare like with like", "Drift needs a significant shift, not just a large PSI" and "A
backfill never scores with a model from its future". The measurements behind them (and the
references tried and rejected) are in docs/monitoring.md."""

from leadscore.drift.bins import NULL_BIN, Bins, bin_categorical, bin_numeric, quantile_edges
from leadscore.drift.compare import (
    DRIFT_SCHEMA,
    MAX_CATEGORY_BINS_JSON,
    MIN_STABLE_ROWS,
    Populations,
    TimeMatchedReference,
    compare_feature,
    compare_populations,
)
from leadscore.drift.config import DriftConfig
from leadscore.drift.reading import AGE_COLUMN, load_populations, load_time_matched
from leadscore.drift.run import drift_of_run, feature_drift, importance_shares
from leadscore.drift.statistics import (
    CHI2_MIN_EXPECTED,
    chi_square,
    drift_status,
    ks_test,
    psi,
    psi_contributions,
)

__all__ = [
    "AGE_COLUMN",
    "CHI2_MIN_EXPECTED",
    "DRIFT_SCHEMA",
    "MAX_CATEGORY_BINS_JSON",
    "MIN_STABLE_ROWS",
    "NULL_BIN",
    "Bins",
    "DriftConfig",
    "Populations",
    "TimeMatchedReference",
    "bin_categorical",
    "bin_numeric",
    "chi_square",
    "compare_feature",
    "compare_populations",
    "drift_of_run",
    "drift_status",
    "feature_drift",
    "importance_shares",
    "ks_test",
    "load_populations",
    "load_time_matched",
    "psi",
    "psi_contributions",
    "quantile_edges",
]
