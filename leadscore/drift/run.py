"""The entry points of dbt model ``feature_drift``: ``drift_of_run`` (what
``models/monitoring/feature_drift.py`` calls) and ``feature_drift``.

The model compared is the one that scores leads at as_of (``registry.scoring_model_of``: the
champion; in a backfill the earlier model ``lead_predictions`` uses; DECISIONS.md: "A backfill
never scores with a model from its future"). Its input columns (``feature_spec``) are the
rows, each with its share of the model's importance. Without a model (rule fallback) the
features training would use (``FeatureSpec.from_schema`` minus ``exclude_features``) are
compared, importance NULL and model_version ``rules``: a broken source matters to the rules
too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from leadscore.dbt_inputs import resolved_as_of
from leadscore.drift.compare import compare_populations
from leadscore.drift.config import DriftConfig
from leadscore.drift.reading import load_populations
from leadscore.preprocess import FeatureSpec
from leadscore.registry import RegistryEntry, entries_of, scoring_model_of
from leadscore.training import ModelArtifact


def importance_shares(artifact: ModelArtifact) -> dict[str, float]:
    """The model's importance (|coef| on the standardised scale for LR, total gain for
    XGBoost) summed per input column (a category's one-hot columns and missing indicators
    count as one) and normalised to shares summing to 1 (all 0 when nothing is used)."""
    raw = artifact.feature_importance()
    totals = dict.fromkeys(artifact.feature_spec.columns, 0.0)
    names = artifact.feature_names
    for name, source in zip(names, artifact.source_columns(), strict=True):
        totals[source] += raw.get(name, 0.0)
    total = sum(totals.values())
    return {col: value / total if total > 0 else 0.0 for col, value in totals.items()}


def feature_drift(
    features: duckdb.DuckDBPyRelation,
    snapshots: duckdb.DuckDBPyRelation,
    registry: Sequence[RegistryEntry],
    as_of: datetime,
    config: DriftConfig,
) -> pa.Table:
    """Drift of every input feature of the model that scores leads at ``as_of`` (the
    champion; ``leadscore.registry.scoring_model_of``), with its importance; without one, of
    the features training would use, importance NULL."""
    model, _ = scoring_model_of(registry, as_of)
    if model is None:
        schema = features.limit(0).to_arrow_table().schema
        spec = FeatureSpec.from_schema(schema, exclude=config.exclude_features)
        importance = None
    else:
        artifact = model.artifact
        spec = artifact.feature_spec
        importance = importance_shares(artifact)
    populations = load_populations(features, snapshots, model, spec.columns, config, as_of)
    return compare_populations(populations, spec, importance, as_of, config)


def drift_of_run(
    params: duckdb.DuckDBPyRelation,
    registry: duckdb.DuckDBPyRelation,
    features: duckdb.DuckDBPyRelation,
    snapshots: duckdb.DuckDBPyRelation,
    settings: Mapping[str, Any],
) -> pa.Table:
    """feature_drift: feature_drift for the run's as_of with the model's drift_vars."""
    entries = entries_of(registry.to_arrow_table())
    config = DriftConfig.from_vars(settings)
    return feature_drift(features, snapshots, entries, resolved_as_of(params), config)
