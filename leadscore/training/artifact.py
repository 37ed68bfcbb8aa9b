"""ModelArtifact: a trained model whose whole state is JSON (no pickle); predicts calibrated
probabilities, raw margins and per-feature contributions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import xgboost as xgb

from leadscore.preprocess import FeatureSpec, Preprocessor
from leadscore.training import mlp
from leadscore.training.calibration import Calibrator

ARTIFACT_FORMAT_VERSION = 1


@dataclass
class Prediction:
    """Calibrated probabilities, raw margins (logits) and, per categorical feature, how
    many rows had a value never seen in train."""

    probability: np.ndarray
    margin: np.ndarray
    unknown_counts: dict[str, int]


@dataclass
class Explanation:
    """:meth:`ModelArtifact.explain`: the prediction, the contributions ([n, n_features + 1],
    bias last, rows sum to the margin), their column names, the input column behind each
    (``sources``, without the bias) and per categorical column a mask of rows whose value
    was never seen in train."""

    prediction: Prediction
    contributions: np.ndarray
    names: list[str]
    sources: list[str]
    unknown: dict[str, np.ndarray]


@dataclass
class ModelArtifact:
    """A trained, calibrated model with everything needed to score a table.

    model: LR ``{"coef": [...], "intercept": float}``; XGBoost ``{"booster_json": str}``
    (``booster.save_raw("json")`` decoded). Serialised by :meth:`to_json` (plain JSON)."""

    name: str
    model_type: str
    preprocessor: Preprocessor
    model: dict[str, Any]
    calibrator: Calibrator
    params: dict[str, Any]
    threshold: float
    format_version: int = ARTIFACT_FORMAT_VERSION
    _booster: xgb.Booster | None = field(default=None, init=False, repr=False, compare=False)
    _parts: list[tuple[ModelArtifact, float, float, float]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def feature_spec(self) -> FeatureSpec:
        return self.preprocessor.spec

    @property
    def feature_names(self) -> list[str]:
        if self.model_type == "blend":
            return [f"{p.model_type}:{n}" for p, *_ in self.components for n in p.feature_names]
        return self.preprocessor.feature_names

    @property
    def components(self) -> list[tuple[ModelArtifact, float, float, float]]:
        """A blend's parts: (artifact, weight, a, b); the blend's margin is
        sum(weight * (a * part margin + b)) — an average of Platt-calibrated logits."""
        if self.model_type != "blend":
            return []
        if self._parts is None:
            self._parts = [
                (ModelArtifact.from_dict(c["artifact"]), c["weight"], c["a"], c["b"])
                for c in self.model["components"]
            ]
        return self._parts

    @property
    def uses_trees(self) -> bool:
        """XGBoost, or a blend with an XGBoost part (exact vs approximate reasons matter)."""
        return self.model_type == "xgboost" or any(p.uses_trees for p, *_ in self.components)

    def source_columns(self) -> list[str]:
        """The input column behind each of :attr:`feature_names`."""
        if self.model_type == "blend":
            return [c for p, *_ in self.components for c in p.source_columns()]
        return self.preprocessor.source_columns()

    def booster(self) -> xgb.Booster:
        if self._booster is None:
            booster = xgb.Booster()
            booster.load_model(bytearray(self.model["booster_json"], "utf-8"))
            booster.set_param({"nthread": int(self.params.get("n_jobs", 2))})
            self._booster = booster
        return self._booster

    def _margin_from_matrix(self, x: np.ndarray) -> np.ndarray:
        if self.model_type == "mlp":
            return mlp.margin(x, self.model)
        if self.model_type == "logistic_regression":
            coef = np.asarray(self.model["coef"], dtype=np.float64)
            return x @ coef + float(self.model["intercept"])
        # inplace_predict: no DMatrix copy of the matrix (the same trees, the same margins)
        margin = self.booster().inplace_predict(x, predict_type="margin", missing=np.nan)
        return np.asarray(margin, dtype=np.float64)

    def predict(self, table: pa.Table, converted: dict | None = None) -> Prediction:
        """Probabilities, margins and unknown-category counts for every row of ``table``
        (``converted``: see Preprocessor.transform)."""
        if self.model_type == "blend":
            shared = {} if converted is None else converted
            parts = [(p.predict(table, shared), w, a, b) for p, w, a, b in self.components]
            margin = sum(w * (a * pred.margin + b) for pred, w, a, b in parts)
            return Prediction(self.calibrator.apply(margin), margin, parts[0][0].unknown_counts)
        t = self.preprocessor.transform(table, converted)
        margin = self._margin_from_matrix(t.matrix)
        return Prediction(self.calibrator.apply(margin), margin, t.unknown_counts)

    def predict_proba(self, table: pa.Table) -> np.ndarray:
        """Calibrated conversion probability of every row."""
        return self.predict(table).probability

    def raw_margin(self, table: pa.Table) -> np.ndarray:
        """Uncalibrated model output on the logit scale."""
        if self.model_type == "blend":
            return self.predict(table).margin
        return self._margin_from_matrix(self.preprocessor.transform(table).matrix)

    def contributions(
        self, table: pa.Table, approximate: bool = False
    ) -> tuple[np.ndarray, list[str]]:
        """Per-row additive contributions to the raw margin: [n, n_features + 1], the last
        column being the bias/intercept; each row sums to :meth:`raw_margin`. XGBoost:
        TreeSHAP (``pred_contribs``), or with ``approximate`` Saabas' path attribution
        (``approx_contribs``: 6-13x faster in the benchmarks, also additive, but it credits
        features by where they sit in the trees); LR: coef x transformed value (exact either
        way); MLP: integrated gradients (``training.mlp``); blend: its parts' contributions
        scaled by weight x Platt slope, side by side (the bias column also holds the offsets)."""
        if self.model_type == "blend":
            e = self.explain(table, approximate)
            return e.contributions, e.names
        return self._contributions_from_matrix(
            self.preprocessor.transform(table).matrix, approximate
        )

    def _contributions_from_matrix(
        self, x: np.ndarray, approximate: bool = False
    ) -> tuple[np.ndarray, list[str]]:
        names = self.feature_names
        if self.model_type == "mlp":
            return mlp.contributions(x, self.model), [*names, "(bias)"]
        if self.model_type == "logistic_regression":
            coef = np.asarray(self.model["coef"], dtype=np.float64)
            contrib = np.empty((x.shape[0], x.shape[1] + 1))
            contrib[:, :-1] = x * coef
            contrib[:, -1] = float(self.model["intercept"])
            return contrib, [*names, "(intercept)"]
        dm = xgb.DMatrix(x, missing=np.nan, nthread=int(self.params.get("n_jobs", 2)))
        contrib = self.booster().predict(dm, pred_contribs=True, approx_contribs=approximate)
        contrib = contrib.astype(np.float64)
        return contrib, [*names, "(bias)"]

    def explain(
        self, table: pa.Table, approximate: bool = False, converted: dict | None = None
    ) -> Explanation:
        """Prediction and contributions of every row from one transformation of ``table``
        (``approximate``: see :meth:`contributions`; ``converted``: see
        Preprocessor.transform)."""
        if self.model_type == "blend":
            return self._explain_blend(table, approximate, {} if converted is None else converted)
        t = self.preprocessor.transform(table, converted)
        contrib, names = self._contributions_from_matrix(t.matrix, approximate)
        margin = self._margin_from_matrix(t.matrix)
        unknown = {
            col: t.matrix[:, j] == 1 for col, j in self.preprocessor.unknown_positions().items()
        }
        return Explanation(
            Prediction(self.calibrator.apply(margin), margin, t.unknown_counts),
            contrib,
            names,
            self.preprocessor.source_columns(),
            unknown,
        )

    def _explain_blend(self, table: pa.Table, approximate: bool, shared: dict) -> Explanation:
        parts = [(p.explain(table, approximate, shared), w, a, b) for p, w, a, b in self.components]
        blocks = [e.contributions[:, :-1] * (w * a) for e, w, a, _ in parts]
        bias = sum(w * (a * e.contributions[:, -1] + b) for e, w, a, b in parts)
        sources = self.source_columns()
        # the parts' columns of one input side by side (reasons sum them per input column)
        rank = {src: i for i, src in enumerate(dict.fromkeys(sources))}
        perm = np.argsort([rank[src] for src in sources], kind="stable")
        contrib = np.column_stack([np.column_stack(blocks)[:, perm], bias])
        margin = sum(w * (a * e.prediction.margin + b) for e, w, a, b in parts)
        first = parts[0][0]
        names = self.feature_names
        return Explanation(
            Prediction(self.calibrator.apply(margin), margin, first.prediction.unknown_counts),
            contrib,
            [*(names[i] for i in perm), "(bias)"],
            [sources[i] for i in perm],
            first.unknown,
        )

    def feature_importance(self) -> dict[str, float]:
        """|coef| on the standardised scale (LR), total gain (XGBoost), weight-path magnitude
        (MLP) per feature; a blend lists its parts' (prefixed, scaled to shares x weight)."""
        names = self.feature_names
        if self.model_type == "blend":
            out: dict[str, float] = {}
            for part, weight, _, _ in self.components:
                raw = part.feature_importance()
                total = sum(raw.values()) or 1.0
                for name, value in raw.items():
                    out[f"{part.model_type}:{name}"] = weight * value / total
            return out
        if self.model_type == "mlp":
            return {n: float(v) for n, v in zip(names, mlp.importance(self.model), strict=True)}
        if self.model_type == "logistic_regression":
            return {n: abs(float(c)) for n, c in zip(names, self.model["coef"], strict=True)}
        gains = self.booster().get_score(importance_type="total_gain")
        return {names[int(k[1:])]: float(v) for k, v in gains.items()}

    def top_features(self, n: int = 20) -> list[dict[str, Any]]:
        ranked = sorted(self.feature_importance().items(), key=lambda kv: (-kv[1], kv[0]))
        kind = {"logistic_regression": "abs_coef", "xgboost": "total_gain"}.get(
            self.model_type, "share" if self.model_type == "blend" else "weight_path"
        )
        return [{"feature": k, "importance": v, "kind": kind} for k, v in ranked[:n] if v > 0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "name": self.name,
            "model_type": self.model_type,
            "preprocessor": self.preprocessor.to_dict(),
            "model": self.model,
            "calibrator": self.calibrator.to_dict(),
            "params": self.params,
            "threshold": self.threshold,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelArtifact:
        version = data.get("format_version")
        if version != ARTIFACT_FORMAT_VERSION:
            raise ValueError(
                f"model artifact format_version {version!r} is not supported (expected "
                f"{ARTIFACT_FORMAT_VERSION}); retrain the model with this leadscore version"
            )
        return cls(
            name=data["name"],
            model_type=data["model_type"],
            preprocessor=Preprocessor.from_dict(data["preprocessor"]),
            model=dict(data["model"]),
            calibrator=Calibrator.from_dict(data["calibrator"]),
            params=dict(data["params"]),
            threshold=float(data["threshold"]),
        )

    @classmethod
    def from_json(cls, text: str) -> ModelArtifact:
        return cls.from_dict(json.loads(text))


# --------------------------------------------------------------------------------------
# data checks and folds
