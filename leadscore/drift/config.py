"""The knobs of the drift comparison (``DriftConfig``), read from the dbt vars of model
``feature_drift`` through ``leadscore.settings``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leadscore import settings
from leadscore.settings import check_fields, setting_field


@dataclass(frozen=True)
class DriftConfig:
    """Knobs of the drift comparison; each field is the dbt var named in its
    ``setting_field`` (kinds, bounds and defaults in ``leadscore.settings``).

    Attributes:
        psi_watch: PSI at or above this → status ``watch``.
        psi_alert: PSI at or above this → status ``alert`` (must be above psi_watch).
        n_bins: reference-quantile bins of a numeric feature (fewer when quantiles tie).
        psi_floor: share given to a bin that is empty in one population, so PSI stays
            finite (a bin empty in the reference and holding 1 % of today's rows adds
            about 0.046 with the default 1e-4).
        max_p_value: a PSI above a threshold counts only when the chi-square test on the
            same bins has a p-value below this divided by the number of features compared
            (the chance that noise alone flags any feature of a run); otherwise, or with
            too few rows for the test, the difference is sampling noise and the status ok.
        reference_rows: at most this many rows of each population are compared (a
            deterministic hash sample in DuckDB, so memory stays bounded).
        exclude_features: the training var of the same name; only used without a model,
            when the compared features are those training would use.
        calendar_cumulative_features: features that accumulate with calendar time (running
            totals over the CRM's history, not the lead's own): compared with the
            time-matched reference instead of the model's (``reading.load_time_matched``).
        calendar_reference_days: days of grid snapshots in the time-matched reference.
    """

    psi_watch: float = setting_field("drift_psi_watch")
    psi_alert: float = setting_field("drift_psi_alert")
    n_bins: int = setting_field("drift_n_bins")
    psi_floor: float = setting_field("drift_psi_floor")
    max_p_value: float = setting_field("drift_max_p_value")
    reference_rows: int = setting_field("drift_reference_rows")
    exclude_features: tuple[str, ...] = setting_field("exclude_features")
    calendar_cumulative_features: tuple[str, ...] = setting_field("calendar_cumulative_features")
    calendar_reference_days: int = setting_field("drift_calendar_reference_days")

    def __post_init__(self) -> None:
        check_fields(self)
        if not 0 < self.psi_watch < self.psi_alert:
            raise ValueError(
                f"vars drift_psi_watch ({self.psi_watch}) and drift_psi_alert "
                f"({self.psi_alert}) must satisfy 0 < drift_psi_watch < drift_psi_alert; "
                "set them in dbt_project.yml vars or with "
                "--vars '{drift_psi_watch: 0.1, drift_psi_alert: 0.25}'"
            )

    @classmethod
    def from_vars(cls, mapping: Mapping[str, Any]) -> DriftConfig:
        """Build from dbt vars (keys are the var names, ``vars_of(DriftConfig)``; other keys
        are ignored, a missing or null value keeps the default). Raises ValueError naming the
        var and the fix."""
        return settings.from_vars(cls, mapping)
