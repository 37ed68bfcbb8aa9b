"""train_candidates: the orchestration from the splits to the TrainingReport."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import threadpool_limits

from leadscore import metrics as m
from leadscore import populations as pops
from leadscore.config import TrainingConfig
from leadscore.preprocess import FeatureSpec, Preprocessor, fit_preprocessor
from leadscore.training.artifact import ModelArtifact
from leadscore.training.calibration import Calibrator
from leadscore.training.evaluation import (
    REPORT_METRICS,
    _baseline_candidate,
    _blend_of,
    _check_baselines,
    _judge,
    _Judged,
    choose_candidate,
)
from leadscore.training.refit import _Refitter
from leadscore.training.search import (
    BLEND,
    MODES,
    SEARCH_SHARES,
    Fold,
    _Candidate,
    _fit_payload,
    _FoldData,
    _search_family,
    _Trial,
    _usable_folds,
    purged_time_folds,
)
from leadscore.training.splits import (
    TIME,
    _fixed_order,
    _times_of,
    check_enough_data,
    firsts_of,
    groups_of,
    labels_of,
    training_weights,
)


@dataclass
class TrainingReport:
    """Everything :func:`train_candidates` learned; ``to_dict()`` is JSON-able.

    candidates: one dict per ML candidate and baseline — name, model_type, params,
    class_weighting, calibration, threshold, valid_selection_score, metrics (test overall),
    metrics_valid, metrics_by_lead_source (test), curves (test ROC and precision-recall
    points of the ranking score, :func:`curve_points`), train_seconds, search_seconds, search
    (every tried setting with its CV score and time), metrics_by_population (test, per
    ``leadscore.populations``). chosen: the name of the candidate with the best valid score
    on ``population``; evaluation_artifact: it as fitted on train and calibrated on valid
    (out of sample on valid and test: holdout predictions use it); gate_artifact: the same
    setting refitted on every matured row before the test window and calibrated on test —
    the reported figures (:meth:`reported`) and the champion gate use it; artifact: the
    deployed model, refitted on every matured row with that calibration (all three are the
    evaluation artifact with ``refit`` off); artifacts: every candidate's train fit.
    """

    candidates: list[dict[str, Any]]
    chosen: str
    artifact: ModelArtifact
    splits: dict[str, dict[str, Any]]
    features: list[str]
    feature_spec: dict[str, Any]
    top_features: list[dict[str, Any]]
    selection_metric: str
    search_seconds: float
    total_seconds: float
    config: dict[str, Any]
    artifacts: dict[str, ModelArtifact] = field(default_factory=dict, repr=False)
    evaluation_artifact: ModelArtifact | None = field(default=None, repr=False)
    gate_artifact: ModelArtifact | None = field(default=None, repr=False)
    population: str = pops.ALL
    population_note: str | None = None
    refit: dict[str, Any] = field(default_factory=dict)
    n_folds: int = 0
    searched_on: str = ""
    choice: dict[str, Any] = field(default_factory=dict)

    def reported(self) -> dict[str, Any]:
        """The candidate entry whose test figures the registry reports: the refit before
        test when there is one, else the chosen candidate."""
        name = f"{self.chosen}_refit"
        return next((c for c in self.candidates if c["name"] == name), self.candidate(self.chosen))

    def candidate(self, name: str) -> dict[str, Any]:
        for c in self.candidates:
            if c["name"] == name:
                return c
        raise KeyError(f"no candidate {name!r}; have {[c['name'] for c in self.candidates]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "selection_metric": self.selection_metric,
            "candidates": self.candidates,
            "splits": self.splits,
            "features": self.features,
            "feature_spec": self.feature_spec,
            "top_features": self.top_features,
            "search_seconds": self.search_seconds,
            "total_seconds": self.total_seconds,
            "config": self.config,
            "population": self.population,
            "population_note": self.population_note,
            "refit": self.refit,
            "n_folds": self.n_folds,
            "searched_on": self.searched_on,
            "choice": self.choice,
        }

    def summary(self) -> str:
        """A few lines per candidate with the test metrics, for logs."""
        lines = [
            f"chosen: {self.chosen} (on valid {self.selection_metric}, population "
            f"{self.population}; hyperparameters on {self.searched_on})"
        ]
        for c in self.candidates:
            lines.append(f"  {c['name']:<34} " + m.summarize(c["metrics"], REPORT_METRICS))
        return "\n".join(lines)


def _split_summary(table: pa.Table, y: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": int(y.size), "positives": int(y.sum())}
    out["positive_rate"] = float(y.mean()) if y.size else None
    if TIME in table.column_names and table.num_rows:
        lo, hi = pc.min_max(table.column(TIME)).values()
        out["min_snapshot_at"] = _iso(lo.as_py())
        out["max_snapshot_at"] = _iso(hi.as_py())
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def train_candidates(
    train: pa.Table,
    valid: pa.Table,
    test: pa.Table,
    config: TrainingConfig | None = None,
    baseline_scores: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    purged: pa.Table | None = None,
) -> TrainingReport:
    """Train, tune, calibrate and evaluate every candidate; return the report with the
    chosen model's artifact. Tables are training_snapshots rows of one split each (features,
    snapshot_at, is_converted, lead_source; lead_first_snapshot_at, snapshot_kind and
    lead_age_days when present). ``purged``: the matured rows of no split, used only by the
    refits. See the module docstring for the decisions.

    Raises InsufficientTrainingData when train has fewer than min_training_conversions
    positives or any split has a single class or no rows.

    BLAS/OpenMP pools are limited to config.n_jobs threads for the duration of the call."""
    config = config or TrainingConfig()
    with threadpool_limits(limits=config.n_jobs):
        return _train_candidates(train, valid, test, config, baseline_scores, purged)


@dataclass
class _Splits:
    """The splits in a fixed row order (train sorted by time), with their labels and the
    baseline scores aligned to the reordered valid and test rows."""

    tables: dict[str, pa.Table]
    ys: dict[str, np.ndarray]
    baselines: dict[str, tuple[np.ndarray, np.ndarray]]
    purged: pa.Table | None


def _ordered_splits(
    train: pa.Table,
    valid: pa.Table,
    test: pa.Table,
    baseline_scores: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
    purged: pa.Table | None,
    config: TrainingConfig,
) -> _Splits:
    baselines = _check_baselines(baseline_scores, valid.num_rows, test.num_rows)
    # the warehouse returns rows in no fixed order; the same rows must make the same model
    # (baseline scores follow their rows)
    order_valid, order_test = _fixed_order(valid), _fixed_order(test)
    valid, test = valid.take(order_valid), test.take(order_test)
    baselines = {n: (v[order_valid], t[order_test]) for n, (v, t) in baselines.items()}
    train = train.take(_fixed_order(train))
    purged = None if purged is None else purged.take(_fixed_order(purged))
    tables = {"train": train, "valid": valid, "test": test}
    ys = {split: labels_of(t, split) for split, t in tables.items()}
    check_enough_data(ys, config.min_training_conversions)

    order = np.argsort(_times_of(train, "train"), kind="stable")
    tables["train"] = train.take(pa.array(order))
    ys["train"] = ys["train"][order]
    return _Splits(tables, ys, baselines, purged)


def _feature_spec(train: pa.Table, config: TrainingConfig) -> FeatureSpec:
    spec = FeatureSpec.from_schema(train.schema, config.exclude_features)
    if not spec.columns:
        raise ValueError(
            "no feature columns left after exclusions; check var exclude_features and the "
            f"table columns ({', '.join(train.column_names)})"
        )
    return spec


def _search_data(
    x_train: np.ndarray,
    pre: Preprocessor,
    splits: _Splits,
    folds: list[Fold],
    w_train: np.ndarray,
    config: TrainingConfig,
) -> _FoldData:
    y_train, valid = splits.ys["train"], splits.tables["valid"]
    if folds:
        return _FoldData(x_train, y_train, folds, config.n_jobs, w_train)
    # no purged fold fits in train (history shorter than two windows): tune on valid,
    # whose leads and label windows are purged from train by construction
    n = x_train.shape[0]
    x_both = np.vstack([x_train, pre.transform(valid).matrix])
    y_both = np.concatenate([y_train, splits.ys["valid"]])
    w_both = np.concatenate([w_train, np.ones(valid.num_rows)])
    folds_valid = [(n, np.arange(n, x_both.shape[0]))]
    return _FoldData(x_both, y_both, folds_valid, config.n_jobs, w_both)


def _search(
    splits: _Splits,
    spec: FeatureSpec,
    folds: list[Fold],
    w_train: np.ndarray,
    config: TrainingConfig,
) -> list[tuple[_Candidate, Preprocessor, np.ndarray]]:
    """Every family's candidates, each family within its share of the search budget."""
    train = splits.tables["train"]
    search_start = time.perf_counter()
    total_share = sum(SEARCH_SHARES[t] for t in config.model_types)
    spent = 0.0
    fitted: list[tuple[_Candidate, Preprocessor, np.ndarray]] = []
    for model_type in config.model_types:
        pre = fit_preprocessor(
            train, spec, MODES[model_type], config.min_category_count, config.max_categories
        )
        x_train = pre.transform(train).matrix
        spent += SEARCH_SHARES[model_type] / total_share
        deadline = search_start + spent * config.search_budget_seconds
        data = _search_data(x_train, pre, splits, folds, w_train, config)
        for cand in _search_family(model_type, data, config, deadline):
            fitted.append((cand, pre, x_train))
    return fitted


def _judge_fitted(
    fitted: list[tuple[_Candidate, Preprocessor, np.ndarray]],
    splits: _Splits,
    masks: Mapping[str, Mapping[str, np.ndarray]],
    population: str,
    w_train: np.ndarray,
    config: TrainingConfig,
) -> tuple[dict[str, _Judged], dict[str, tuple[str, _Trial]]]:
    """Each candidate's best setting fitted on all of train and judged; its setting."""
    tables, ys, groups_test = splits.tables, splits.ys, groups_of(splits.tables["test"])
    judged: dict[str, _Judged] = {}
    settings: dict[str, tuple[str, _Trial]] = {}
    for cand, pre, x_train in fitted:
        payload, params, fit_seconds = _fit_payload(
            cand.model_type, cand.best, x_train, ys["train"], config, w_train
        )
        art = ModelArtifact(
            cand.name, cand.model_type, pre, payload, Calibrator("platt"), params, 0.5
        )
        j = _judge(art, tables, ys, masks, population, groups_test, config)
        j.entry["metrics"]["train_seconds"] = round(fit_seconds, 3)
        j.entry.update(
            train_seconds=round(fit_seconds, 3),
            search_seconds=round(cand.seconds, 3),
            search=[t.to_dict(config.selection_metric) for t in cand.trials],
        )
        judged[cand.name] = j
        settings[cand.name] = (cand.model_type, cand.best)
    return judged, settings


def _blend_candidate(
    judged: Mapping[str, _Judged],
    splits: _Splits,
    masks: Mapping[str, Mapping[str, np.ndarray]],
    population: str,
    config: TrainingConfig,
) -> _Judged | None:
    """The blend of the best logistic regression and XGBoost, judged (None without both)."""
    best_of: dict[str, str] = {}
    for name, j in judged.items():
        family = j.art.model_type
        if family not in best_of or j.selection < judged[best_of[family]].selection:
            best_of[family] = name
    if not config.blend or not {"logistic_regression", "xgboost"} <= set(best_of):
        return None
    tables, ys = splits.tables, splits.ys
    parts = [judged[best_of["logistic_regression"]], judged[best_of["xgboost"]]]
    blend = _judge(
        _blend_of(parts, tables, ys),
        tables,
        ys,
        masks,
        population,
        groups_of(tables["test"]),
        config,
    )
    blend.entry.update(train_seconds=None, search_seconds=None, search=[])
    return blend


def _train_candidates(
    train: pa.Table,
    valid: pa.Table,
    test: pa.Table,
    config: TrainingConfig,
    baseline_scores: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
    purged: pa.Table | None,
) -> TrainingReport:
    started = time.perf_counter()
    splits = _ordered_splits(train, valid, test, baseline_scores, purged, config)
    tables, ys = splits.tables, splits.ys
    times = _times_of(tables["train"], "train")
    w_train = training_weights(tables["train"], config.training_weights)
    folds = _usable_folds(
        purged_time_folds(
            times,
            firsts_of(tables["train"], times),
            config.n_time_folds,
            config.conversion_window_days,
        ),
        ys["train"],
    )
    spec = _feature_spec(tables["train"], config)
    groups_test = groups_of(tables["test"])
    masks = {s: pops.population_masks(tables[s]) for s in ("valid", "test")}
    population, population_note = pops.usable_population(
        config.evaluation_population, masks["valid"], ys["valid"], config.min_population_positives
    )

    search_start = time.perf_counter()
    fitted = _search(splits, spec, folds, w_train, config)
    search_seconds = time.perf_counter() - search_start
    judged, settings = _judge_fitted(fitted, splits, masks, population, w_train, config)
    blend = _blend_candidate(judged, splits, masks, population, config)
    if blend is not None:
        judged[BLEND] = blend

    candidates = [j.entry for j in judged.values()]
    for name, (valid_scores, test_scores) in splits.baselines.items():
        candidates.append(
            _baseline_candidate(name, valid_scores, test_scores, ys, masks, groups_test, config)
        )

    chosen, choice = choose_candidate(judged, ys["valid"], masks["valid"][population], config)
    evaluation = judged[chosen].art
    deployed, gate, refit = evaluation, evaluation, None
    if config.refit:
        refitter = _Refitter(spec, settings, evaluation, config)
        gate, deployed, refit = refitter.run(tables, ys, masks, splits.purged, groups_test)
        if "candidate" in refit:
            candidates.append(refit["candidate"])
    return TrainingReport(
        candidates=candidates,
        chosen=chosen,
        artifact=deployed,
        splits={s: _split_summary(t, ys[s]) for s, t in tables.items()},
        features=list(spec.columns),
        feature_spec=spec.to_dict(),
        top_features=deployed.top_features(config.top_n_features),
        selection_metric=config.selection_metric,
        search_seconds=round(search_seconds, 3),
        total_seconds=round(time.perf_counter() - started, 3),
        config=_config_dict(config),
        artifacts={n: j.art for n, j in judged.items()},
        evaluation_artifact=evaluation,
        gate_artifact=gate,
        population=population,
        population_note=population_note,
        refit={k: v for k, v in (refit or {}).items() if k != "candidate"},
        n_folds=len(folds),
        searched_on="purged CV folds of train" if folds else "valid (no purged fold fits in train)",
        choice=choice,
    )


def _config_dict(config: TrainingConfig) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
