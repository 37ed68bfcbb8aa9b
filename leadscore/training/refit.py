"""The chosen setting refitted on more matured rows: before the test window (judged and
calibrated on test, the gate's model) and on every matured row (deployed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from leadscore.config import TrainingConfig
from leadscore.preprocess import FeatureSpec, fit_preprocessor
from leadscore.training.artifact import ModelArtifact
from leadscore.training.calibration import Calibrator, choose_calibration, fit_calibrator
from leadscore.training.evaluation import _by_population, _evaluate_all, curve_points
from leadscore.training.search import BLEND, MODES, US_PER_DAY, _fit_payload, _Trial
from leadscore.training.splits import _times_of, firsts_of, labels_of, training_weights


class _Refitter:
    """The chosen setting refitted (preprocessing included) on more matured rows: before the
    test window (judged and calibrated on test) and on every matured row (deployed)."""

    def __init__(
        self,
        spec: FeatureSpec,
        settings: Mapping[str, tuple[str, _Trial]],
        evaluation: ModelArtifact,
        config: TrainingConfig,
    ) -> None:
        self.spec, self.settings, self.evaluation, self.config = spec, settings, evaluation, config

    def fit(self, name: str, table: pa.Table) -> ModelArtifact:
        if name == BLEND:
            comps = [
                {**c, "artifact": self.fit(c["artifact"]["name"], table).to_dict()}
                for c in self.evaluation.model["components"]
            ]
            first = ModelArtifact.from_dict(comps[0]["artifact"])
            return ModelArtifact(
                BLEND,
                BLEND,
                first.preprocessor,
                {"components": comps},
                Calibrator("platt"),
                dict(self.evaluation.params),
                self.evaluation.threshold,
            )
        model_type, trial = self.settings[name]
        c = self.config
        pre = fit_preprocessor(
            table, self.spec, MODES[model_type], c.min_category_count, c.max_categories
        )
        y = labels_of(table, "refit")
        w = training_weights(table, c.training_weights)
        x = pre.transform(table).matrix
        payload, params, _ = _fit_payload(model_type, trial, x, y, c, w)
        return ModelArtifact(name, model_type, pre, payload, Calibrator("platt"), params, 0.5)

    def run(
        self,
        tables: Mapping[str, pa.Table],
        ys: Mapping[str, np.ndarray],
        masks: Mapping[str, Mapping[str, np.ndarray]],
        purged: pa.Table | None,
        groups_test: np.ndarray | None,
    ) -> tuple[ModelArtifact, ModelArtifact, dict[str, Any]]:
        c = self.config
        test = tables["test"]
        extra = [] if purged is None or not purged.num_rows else [purged]
        everything = pa.concat_tables([tables["train"], tables["valid"], test, *extra])
        test_from = int(_times_of(test, "test").min())
        before = _times_of(everything, "refit") + c.conversion_window_days * US_PER_DAY
        firsts = firsts_of(everything, _times_of(everything, "refit"))
        keep = (before <= test_from) & (firsts < test_from)
        pre_test = everything.filter(pa.array(keep))
        y_pre = labels_of(pre_test, "refit")
        if y_pre.sum() < c.min_training_conversions or y_pre.sum() == y_pre.size:
            note = (
                f"refit skipped: {int(y_pre.sum())} conversions among {y_pre.size} matured rows "
                f"whose label window ends before the test window (fewer than var "
                f"min_training_conversions = {c.min_training_conversions}); the model fitted "
                "on train and calibrated on valid is deployed"
            )
            return self.evaluation, self.evaluation, {"skipped": note}
        name = self.evaluation.name
        gate = self.fit(name, pre_test)
        margin = gate.raw_margin(test)
        method = choose_calibration(
            c.calibration, ys["test"], c.isotonic_min_rows, c.isotonic_min_positives
        )
        gate.calibrator = fit_calibrator(margin, ys["test"], method)
        gate.threshold = self.evaluation.threshold
        prob = gate.calibrator.apply(margin)
        metrics, by_group = _evaluate_all(ys["test"], prob, margin, groups_test, gate.threshold, c)
        deployed = self.fit(name, everything)
        deployed.calibrator, deployed.threshold = gate.calibrator, gate.threshold
        by_population = _by_population(ys["test"], prob, margin, masks["test"], gate, c)
        curves = curve_points(ys["test"], margin)
        entry = _refit_entry(gate, metrics, by_group, by_population, curves)
        info = {
            "pre_test_rows": pre_test.num_rows,
            "all_rows": everything.num_rows,
            "calibrated_on": "test",
            "candidate": entry,
        }
        return gate, deployed, info


def _refit_entry(
    gate: ModelArtifact,
    metrics: dict[str, Any],
    by_group: dict[str, Any],
    by_population: dict[str, Any],
    curves: dict[str, Any],
) -> dict[str, Any]:
    """The refitted model's row among the candidates (judged on test, chosen on nothing)."""
    return {
        "name": f"{gate.name}_refit",
        "model_type": "refit",
        "params": gate.params,
        "class_weighting": bool(gate.params.get("class_weighting", False)),
        "calibration": gate.calibrator.method,
        "threshold": gate.threshold,
        "valid_selection_score": None,
        "metrics": metrics,
        "metrics_valid": {},
        "metrics_by_lead_source": by_group,
        "metrics_by_population": by_population,
        "curves": curves,
        "train_seconds": None,
        "search_seconds": None,
        "search": [],
        "top_features": [],
    }
