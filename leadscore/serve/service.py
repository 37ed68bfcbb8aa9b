"""Scoring for the API: feature rows → the lead_scores fields, with the batch's own code for
the model part (``scoring.score_with_model`` / ``score_with_rules``: probability, logit,
reasons, notes) and the Python mirror of lead_scores.sql for the rest:

- expected_value = probability x value_per_conversion of the lead's size band (int_deal_values,
  '(unknown)' without a band) - contact_cost; tier_basis 'expected_value', or 'rule_grade'
  without a probability or a deal value (the grade's fallback_tier);
- hot is capped by capacity: a lead is hot only if it ranks at or above the lead that was
  ranked weekly_sales_capacity in the build's lead_scores (same ranking key: expected value,
  logit, rule score desc, lead_id asc). A lead of the build, scored as of the build's as_of,
  gets the build's tier; any other lead is ranked against the build's leads, which are not
  re-ranked (DECISIONS.md "Online tiers rank against the build's cut-off");
- score = macro lead_score; recommended_action = seeds/recommended_actions.csv.

``Service`` holds the loaded bundle, applies received events (idempotent by activity_id) and
writes them to the event log; it swaps in a new bundle when the build exports one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from leadscore.scoring import score_with_model, score_with_rules
from leadscore.serve.features import Activities, epoch_us
from leadscore.serve.state import Bundle

HOT = "hot"


@dataclass(frozen=True)
class LeadInput:
    """One lead to score: its int_leads_enriched columns and activities."""

    lead: Mapping[str, Any]
    activities: Activities


def _rank_key(ev: float | None, logit: float | None, rule: float, lead_id: str) -> tuple:
    """lead_scores' priority order: expected_value desc nulls last, logit desc nulls last,
    rule_score desc, lead_id asc (smaller key = ranked first)."""
    return (ev is None, -(ev or 0.0), logit is None, -(logit or 0.0), -rule, lead_id)


def lead_score(probability: float | None, rule_score: float, low: float, high: float) -> int:
    """Macro lead_score: the probability in percent rounded up in 1..100, or the rule score
    rescaled to 1..100 (DuckDB round: half away from zero)."""
    if probability is not None:
        return int(min(100, max(1, math.ceil(100 * probability))))
    scaled = 99.0 * (rule_score - low) / (high - low)
    return int(1 + math.copysign(math.floor(abs(scaled) + 0.5), scaled))


def _within_capacity(bundle: Bundle, key: tuple) -> bool:
    capacity = bundle.online.weekly_sales_capacity
    cutoff = bundle.meta["capacity_cutoff"]
    if capacity <= 0:
        return False
    if cutoff is None:
        return True
    return key <= _rank_key(
        cutoff["expected_value"], cutoff["logit"], cutoff["rule_score"], cutoff["lead_id"]
    )


def tier_of(
    bundle: Bundle, lead_id: str, band: str | None, p: float | None, logit: float | None,
    rule_score: float, grade: str,
) -> dict[str, Any]:  # fmt: skip
    """lead_scores.sql's expected value, tier and tier basis for one lead."""
    value = bundle.deal_values.get(band if band is not None else "(unknown)")
    ev = p * value - bundle.online.contact_cost if p is not None and value is not None else None
    within = _within_capacity(bundle, _rank_key(ev, logit, rule_score, lead_id))
    if ev is not None:
        tier = ("hot" if within else "warm") if ev > 0 else "cold"
        basis = "expected_value"
    else:
        tier = bundle.fallback_tiers.get(grade)
        tier = "warm" if tier == HOT and not within else tier
        basis = "rule_grade"
    return {"expected_deal_value": value, "expected_value": ev, "tier": tier, "tier_basis": basis}


def _predictions(
    bundle: Bundle, table: pa.Table, rows: Sequence[dict], rules: Sequence[Any], reasons: bool
) -> list[dict[str, Any]]:
    model = bundle.model
    if bundle.artifact is not None and not reasons:
        prediction = bundle.artifact.predict(table, {"rows": list(rows)})
        return [
            {"conversion_probability": float(p), "logit": float(m), "top_reasons": None,
             "model_version": model["model_version"], "model_type": bundle.artifact.model_type,
             "scoring_notes": None}
            for p, m in zip(prediction.probability, prediction.margin, strict=True)
        ]  # fmt: skip
    if bundle.artifact is not None:
        out = score_with_model(
            table, bundle.artifact, model["model_version"], bundle.labels,
            bundle.online.n_reasons, model["note"], exact_reasons_max_leads=None, py_rows=rows,
        )  # fmt: skip
        return out.to_pylist()
    ids = table.column("lead_id")
    rule_scores = pa.table(
        {"lead_id": ids, "as_of": table.column("as_of"),
         "rule_score": pa.array([r.rule_score for r in rules], pa.float64())}
    )  # fmt: skip
    reasons = pa.table({"lead_id": ids, "ups": [r.ups for r in rules],
                        "downs": [r.downs for r in rules]})  # fmt: skip
    out = score_with_rules(
        rule_scores, reasons, bundle.rule_calibrator, model["note"], bundle.online.n_reasons
    )
    return out.to_pylist()


def score_leads(
    bundle: Bundle, inputs: Sequence[LeadInput], as_of: datetime, reasons: bool = True
) -> list[dict[str, Any]]:
    """The API answer for each input as of ``as_of`` (the lead_scores fields and the
    feature values used);
    ``reasons=False``: probability, score and tier only (no contributions computed), for the
    scores before a batch of events."""
    if not inputs:
        return []
    rows = bundle.features.rows(
        [item.lead for item in inputs],
        [item.activities for item in inputs],
        [bundle.wins_of(item.lead.get("email_domain")) for item in inputs],
        as_of,
        bundle.attributes,
    )
    table = pa.Table.from_pylist(rows, schema=bundle.feature_schema)
    rules = [bundle.rules.score(row) for row in rows]
    predictions = _predictions(bundle, table, rows, rules, reasons)
    used = bundle.model_features
    online = bundle.online
    answers = []
    for row, rule, pred in zip(rows, rules, predictions, strict=True):
        p = pred["conversion_probability"]
        tier = tier_of(bundle, row["lead_id"], row["company_size_band"], p, pred["logit"],
                       rule.rule_score, rule.rule_grade)  # fmt: skip
        answers.append({
            "lead_id": row["lead_id"],
            "as_of": row["as_of"],
            "conversion_probability": p,
            "score": lead_score(p, rule.rule_score, online.rule_score_min, online.rule_score_max),
            **tier,
            "rule_score": rule.rule_score,
            "rule_grade": rule.rule_grade,
            "top_reasons": pred["top_reasons"],
            "recommended_action": bundle.actions.get((tier["tier"], rule.rule_grade)),
            "model_version": pred["model_version"],
            "model_type": pred["model_type"],
            "logit": pred["logit"],
            "scoring_notes": pred["scoring_notes"],
            "features": {c: _plain(row[c]) for c in used},
        })  # fmt: skip
    return answers


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def activities_from(
    bundle: Bundle, posted: Sequence[Mapping[str, Any]], base: Activities | None = None,
    base_ids: Sequence[str] = (),
) -> tuple[Activities, list[str]]:  # fmt: skip
    """``base`` plus the posted activities whose activity_id it does not hold (first copy of
    a repeated id wins): the type mapped as base_crm__activities maps it (lowercased and
    trimmed; an unknown type counts as 'other')."""
    seen = set(base_ids)
    times, codes, ids = [], [], []
    for item in posted:
        if item["activity_id"] in seen:
            continue
        seen.add(item["activity_id"])
        times.append(epoch_us(item["occurred_at"]))
        codes.append(bundle.features.code_of(type_code_name(bundle, item["activity_type"])))
        ids.append(item["activity_id"])
    new = Activities(np.array(times, np.int64), np.array(codes, np.int8))
    if base is None:
        return new, ids
    merged = Activities(
        np.concatenate([base.times, new.times]), np.concatenate([base.codes, new.codes])
    )
    return merged, [*base_ids, *ids]


def type_code_name(bundle: Bundle, activity_type: str) -> str:
    """activity_type as staging maps it: lowercased, trimmed, 'other' when not a contract
    type."""
    name = activity_type.strip().lower()
    return name if name in bundle.online.activity_types[:-1] else "other"
