"""The clustering features as numbers: a signed log1p (counts, days and company sizes are
heavily skewed; the sign keeps negative velocities), NULLs filled by what they mean, and a
standardization with the fit sample's mean and standard deviation (:class:`FeatureScaler`).
Serves every segmentation model; the scaler is stored in segment_centroids.scaler_json.
Filling and weights: docs/segments.md, "Clusters"."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadscore.segmentation.config import AGE_COLUMN, fill_policy, var_fix


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """sign(x) * ln(1 + |x|): compresses skewed counts, days and sizes, keeps the sign."""
    return np.sign(x) * np.log1p(np.abs(x))


def signed_expm1(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`signed_log1p`."""
    return np.sign(x) * np.expm1(np.abs(x))


def _column_as_float(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    kind = column.type
    numeric = (pa.types.is_boolean, pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if not any(check(kind) for check in numeric):
        raise ValueError(
            f"var segment_features names {name}, a {kind} column; clustering needs numeric or "
            f"boolean columns: {var_fix('features')}"
        )
    as_float = pc.cast(column, pa.float64())
    return pc.fill_null(as_float, math.nan).to_numpy(zero_copy_only=False).astype(np.float64)


def raw_matrix(table: pa.Table, features: Sequence[str], source: str) -> np.ndarray:
    """The features of ``table`` as floats (NaN = NULL), in the original units. Raises
    ValueError naming a feature that is not a column of ``source``."""
    missing = [f for f in features if f not in table.column_names]
    if missing:
        numeric = [
            field.name
            for field in table.schema
            if pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_boolean(field.type)
        ]
        raise ValueError(
            f"var segment_features names {', '.join(missing)}, not a column of {source}; "
            f"use its numeric columns (e.g. {', '.join(numeric[:12])}): {var_fix('features')}"
        )
    if table.num_rows == 0:
        return np.empty((0, len(features)))
    return np.column_stack([_column_as_float(table, f) for f in features])


@dataclass(frozen=True)
class FeatureScaler:
    """signed log1p, NULL fill and standardization of the clustering features, fitted on the
    fit sample. ``fill`` holds the fill value (transformed units) of "median"/"zero" features;
    ``days_since_*`` features are filled per row from lead_age_days (``fill`` None). A
    feature constant (or NULL) in the whole sample gets scale 1 and so no weight: B2C data
    without company sizes still clusters."""

    features: tuple[str, ...]
    fill: tuple[float | None, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    constant: tuple[bool, ...]

    @classmethod
    def fit(cls, table: pa.Table, features: Sequence[str], source: str) -> FeatureScaler:
        raw = raw_matrix(table, features, source)
        age = _age(table, features, source)
        fills: list[float | None] = []
        for j, feature in enumerate(features):
            policy = fill_policy(feature)
            if policy == "lead_age":
                fills.append(None)
            elif policy == "zero":
                fills.append(0.0)
            else:
                observed = raw[:, j][~np.isnan(raw[:, j])]
                fills.append(float(np.median(signed_log1p(observed))) if observed.size else 0.0)
        n = len(features)
        unfitted = cls(tuple(features), tuple(fills), (0.0,) * n, (1.0,) * n, (False,) * n)
        x = unfitted._fill(signed_log1p(raw), age)
        mean = x.mean(axis=0) if len(x) else np.zeros(len(features))
        std = x.std(axis=0) if len(x) else np.zeros(len(features))
        constant = std < 1e-9
        scale = np.where(constant, 1.0, std)
        return cls(
            tuple(features),
            tuple(fills),
            tuple(float(v) for v in mean),
            tuple(float(v) for v in scale),
            tuple(bool(v) for v in constant),
        )

    def _fill(self, x: np.ndarray, age: np.ndarray | None) -> np.ndarray:
        x = x.copy()
        for j, value in enumerate(self.fill):
            holes = np.isnan(x[:, j])
            if not holes.any():
                continue
            if value is None:
                if age is None:  # pragma: no cover - _age raises first
                    raise ValueError(f"{self.features[j]} needs {AGE_COLUMN} to fill NULLs")
                fallback = np.nan_to_num(signed_log1p(age), nan=0.0)
                x[holes, j] = fallback[holes]
            else:
                x[holes, j] = value
        return x

    def transform(self, table: pa.Table, source: str) -> np.ndarray:
        """Transformed units (signed log1p, NULLs filled), before standardization."""
        raw = raw_matrix(table, self.features, source)
        return self._fill(signed_log1p(raw), _age(table, self.features, source))

    def standardize(self, x: np.ndarray) -> np.ndarray:
        return (x - np.asarray(self.mean)) / np.asarray(self.scale)

    def scaled(self, table: pa.Table, source: str) -> np.ndarray:
        return self.standardize(self.transform(table, source))

    def to_json(self) -> str:
        return json.dumps(
            {
                "transform": "signed_log1p",
                "features": list(self.features),
                "fill": list(self.fill),
                "mean": list(self.mean),
                "scale": list(self.scale),
                "constant": list(self.constant),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> FeatureScaler:
        data = json.loads(text)
        return cls(
            tuple(data["features"]),
            tuple(data["fill"]),
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["constant"]),
        )


def _age(table: pa.Table, features: Sequence[str], source: str) -> np.ndarray | None:
    if not any(fill_policy(f) == "lead_age" for f in features):
        return None
    if AGE_COLUMN not in table.column_names:
        raise ValueError(
            f"{source} has no {AGE_COLUMN}, which fills the NULLs of "
            f"{', '.join(f for f in features if fill_policy(f) == 'lead_age')} (never engaged "
            f"= silent since creation); add the column or drop those features: "
            + var_fix("features")
        )
    return raw_matrix(table, [AGE_COLUMN], source)[:, 0]
