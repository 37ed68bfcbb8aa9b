"""One feature row's rule score, grade and reasons, as the batch build computes them.

``RuleScorer.score(features)`` mirrors ``macros/scoring_rules.sql`` as
``models/scoring/lead_rule_scores.sql``, ``lead_rule_score_breakdown.sql`` and
``lead_rule_reasons.sql`` use it, for one row of ``lead_features`` (a dict of its columns as
DuckDB's ``fetchall`` returns them):

- ``rule_parse``: the seed cells trimmed (``rule_cell``), dimension / feature / operator
  lowercased, list values split on '|' and trimmed, text values lowercased (Python's
  lower, in Jinja), boolean values 'true' / 'false', number values pasted as SQL literals;
  a seed the build would refuse raises ValueError here too (the common cases, not every
  message of the macro);
- ``rule_match``: a NULL feature matches only is_null (every other comparison is wrapped in
  ``coalesce(..., false)``, so ``!=`` and ``not_in`` never match NULL); text compares
  DuckDB's ``lower(column)``; ``between`` includes both bounds; numbers compare as DuckDB
  types them: a DOUBLE column or a literal with an exponent as doubles (NaN above every
  number), an integer column with an integer or decimal literal exactly;
- ``rule_points`` / ``rule_scores_select``: fit and engagement points summed separately,
  rule_score_unclamped = var rule_base_score + both, rule_score clamped to
  [rule_score_min, rule_score_max] (``rule_clamp``), rule_grade the first grade by
  descending min_score with ``rule_score >= min_score``, else the lowest (``rule_grade``);
- ``lead_rule_reasons``: the matched rules with non-zero points as ``{description,
  points}``, ups by points descending, downs by points ascending, ties by rule_id; NULL (not
  an empty list) when there are none.

``feature_kind`` is ``rule_feature_kind``: the rule kind of a DuckDB column type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from leadscore.serve.enrich import duckdb_lower
from leadscore.settings import default

# rule_operators
OPERATORS: dict[str, tuple[str, ...]] = {
    "number": ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null"),
    "text": ("=", "!=", "in", "not_in", "is_null"),
    "boolean": ("=", "!=", "is_null"),
}
# rule_non_feature_columns: they describe the row or the label
NON_FEATURE_COLUMNS = frozenset(
    ("lead_id", "as_of", "snapshot_at", "last_input_at", "snapshot_kind", "is_matured",
     "is_converted", "split")
)  # fmt: skip
_SEPARATOR = "|"  # rule_value_separator
_RULE_COLUMNS = ("rule_id", "dimension", "feature", "operator", "value", "points", "description")
_BOOLEAN_TYPE = re.compile(r"^(bool|boolean)$")
_NUMBER_TYPE = re.compile(
    r"^(u?(tiny|small|big|huge)?int(eger)?\d*|int\d+|long|short|byte|double( precision)?|"
    r"float\d*|real|decimal|numeric|number)\b"
)
_TEXT_TYPE = re.compile(r"^(varchar|text|string|char|character|nvarchar|bpchar)\b")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # rule_is_number
_WHOLE_NUMBER = re.compile(r"[+-]?\d+")  # rule_is_whole_number


def feature_kind(duckdb_type: str) -> str | None:
    """'number' | 'text' | 'boolean' for a column's DuckDB type (information_schema
    data_type, e.g. 'BIGINT', 'DECIMAL(18,3)'); None when rules cannot use it."""
    t = duckdb_type.lower()
    if _BOOLEAN_TYPE.match(t):
        return "boolean"
    if _NUMBER_TYPE.match(t):
        return "number"
    if _TEXT_TYPE.match(t):
        return "text"
    return None


@dataclass(frozen=True)
class RuleResult:
    """A lead_rule_scores row's scores and its lead_rule_reasons lists."""

    fit_score: int
    engagement_score: int
    rule_score_unclamped: int
    rule_score: int
    rule_grade: str
    ups: list[dict[str, Any]] | None  # [{'description': str, 'points': int}], None when none
    downs: list[dict[str, Any]] | None


@dataclass(frozen=True)
class _Number:
    """A number value of a rule as the SQL literal it becomes: exact, or DOUBLE when it has
    an exponent (DuckDB types 1e3 as DOUBLE, 2.5 as DECIMAL)."""

    exact: Decimal
    is_double: bool


@dataclass(frozen=True)
class _Rule:
    rule_id: str
    dimension: str
    feature: str
    operator: str
    kind: str
    literals: tuple[Any, ...]
    is_null: bool
    points: int
    description: str


def _cell(value: Any) -> str:
    """rule_cell: a seed cell's text, trimmed; NULL gives ''."""
    return "" if value is None else str(value).strip()


def _compare(value: Any, literal: _Number) -> int:
    """-1, 0 or 1: `value` against a number literal, as DuckDB compares them."""
    if isinstance(value, float) or literal.is_double:
        a, b = float(value), float(literal.exact)
        if math.isnan(a):  # DuckDB orders NaN above every number (and equal to itself)
            return 0 if math.isnan(b) else 1
    else:
        a, b = value, literal.exact
    return (a > b) - (a < b)


def _matches(rule: _Rule, value: Any) -> bool:
    """rule_match on one value: never NULL, a NULL value matches only is_null."""
    if rule.operator == "is_null":
        return (value is None) == rule.is_null
    if value is None:
        return False
    if rule.kind != "number":
        value = duckdb_lower(value) if rule.kind == "text" else value
        found = value in rule.literals
        return {"=": found, "!=": not found, "in": found, "not_in": not found}[rule.operator]
    signs = [_compare(value, literal) for literal in rule.literals]
    op = rule.operator
    if op == "between":
        return signs[0] >= 0 and signs[1] <= 0
    if op in ("in", "not_in"):
        return (0 in signs) == (op == "in")
    sign = signs[0]
    return {"=": sign == 0, "!=": sign != 0, "<": sign < 0, "<=": sign <= 0, ">": sign > 0,
            ">=": sign >= 0}[op]  # fmt: skip


def _literal(kind: str, value: str, where: str) -> Any:
    """A rule value as the literal rule_parse makes of it for a feature of `kind`."""
    if kind == "number":
        if not _NUMBER.fullmatch(value):
            raise ValueError(f"{where}value '{value}' is not a number")
        return _Number(Decimal(value), "e" in value.lower())
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{where}value '{value}' is not true or false")
        return value.lower() == "true"
    return value.lower()


def _values(operator: str, raw_value: str, where: str) -> list[str]:
    """The value texts of a rule: none for is_null, the '|'-separated items of in / not_in /
    between, else the one value."""
    if operator == "is_null":
        if raw_value.lower() not in ("", "true", "false"):
            raise ValueError(f"{where}is_null takes '', true or false, not '{raw_value}'")
        return []
    if operator not in ("in", "not_in", "between"):
        if raw_value == "":
            raise ValueError(f"{where}operator {operator} needs a value")
        return [raw_value]
    parts = [part.strip() for part in raw_value.split(_SEPARATOR)]
    if raw_value == "" or "" in parts or (operator == "between" and len(parts) != 2):
        raise ValueError(f"{where}{operator} needs '|'-separated values (got '{raw_value}')")
    return parts


def _parse_rule(row: Mapping[str, Any], kinds: Mapping[str, str | None]) -> _Rule:
    """rule_parse of one scoring_rules row against the feature kinds."""
    cells = {name: _cell(row.get(name)) for name in _RULE_COLUMNS}
    where = f"scoring_rules.csv rule '{cells['rule_id']}': "
    dimension, feature = cells["dimension"].lower(), cells["feature"].lower()
    operator = cells["operator"].lower()
    kind = kinds.get(feature)
    if dimension not in ("fit", "engagement"):
        raise ValueError(f"{where}unknown dimension '{cells['dimension']}'")
    if not _WHOLE_NUMBER.fullmatch(cells["points"]):
        raise ValueError(f"{where}points '{cells['points']}' is not a whole number")
    if feature in NON_FEATURE_COLUMNS or kind is None:
        raise ValueError(f"{where}'{feature}' is not a number, text or boolean feature")
    if operator not in OPERATORS[kind]:
        raise ValueError(f"{where}operator '{operator}' does not apply to the {kind} feature")
    literals = tuple(_literal(kind, v, where) for v in _values(operator, cells["value"], where))
    return _Rule(
        rule_id=cells["rule_id"],
        dimension=dimension,
        feature=feature,
        operator=operator,
        kind=kind,
        literals=literals,
        is_null=cells["value"].lower() != "false",
        points=int(cells["points"]),
        description=cells["description"],
    )


class RuleScorer:
    """lead_rule_scores and lead_rule_reasons for one feature row (see the module
    docstring for what it mirrors)."""

    def __init__(
        self,
        rules: Sequence[Mapping[str, Any]],
        grades: Sequence[Mapping[str, Any]],
        feature_kinds: Mapping[str, str | None],
        *,
        base_score: int | None = None,
        score_min: int | None = None,
        score_max: int | None = None,
    ) -> None:
        """rules: seeds/scoring_rules.csv rows; grades: rule_grades rows (grade,
        min_score); feature_kinds: lead_features column -> feature_kind of its type.
        base_score / score_min / score_max: vars rule_base_score / rule_score_min /
        rule_score_max (default: the vars' defaults, leadscore.settings)."""
        kinds = {name.lower(): kind for name, kind in feature_kinds.items()}
        self._rules = [_parse_rule(row, kinds) for row in rules]
        self._base = default("rule_base_score") if base_score is None else base_score
        self._min = default("rule_score_min") if score_min is None else score_min
        self._max = default("rule_score_max") if score_max is None else score_max
        cells = [(_cell(row.get("grade")), _cell(row.get("min_score"))) for row in grades]
        if not cells or any(not _NUMBER.fullmatch(low) for _, low in cells):
            raise ValueError("rule_grades: every grade needs a numeric min_score")
        # rule_grade: highest min_score first; the lowest grade is the `else`
        ordered = sorted(cells, key=lambda cell: float(cell[1]), reverse=True)
        self._grades = [(grade, Decimal(low)) for grade, low in ordered]

    def score(self, features: Mapping[str, Any]) -> RuleResult:
        """The rule score, grade and reasons of one lead_features row."""
        missing = sorted({rule.feature for rule in self._rules} - set(features))
        if missing:
            raise ValueError(f"features: missing column(s) {', '.join(missing)}")
        matched = [rule for rule in self._rules if _matches(rule, features[rule.feature])]
        fit = sum(rule.points for rule in matched if rule.dimension == "fit")
        engagement = sum(rule.points for rule in matched if rule.dimension == "engagement")
        unclamped = self._base + fit + engagement
        score = min(max(unclamped, self._min), self._max)
        return RuleResult(
            fit_score=fit,
            engagement_score=engagement,
            rule_score_unclamped=unclamped,
            rule_score=score,
            rule_grade=self._grade(score),
            ups=_reasons(matched, positive=True),
            downs=_reasons(matched, positive=False),
        )

    def _grade(self, score: int) -> str:
        for grade, low in self._grades[:-1]:
            if score >= low:
                return grade
        return self._grades[-1][0]


def _reasons(matched: Sequence[_Rule], *, positive: bool) -> list[dict[str, Any]] | None:
    """lead_rule_reasons.ups (positive) or downs: most points moved first, ties by rule_id;
    None when empty, as DuckDB's filtered list() gives."""
    moves = [rule for rule in matched if (rule.points > 0 if positive else rule.points < 0)]
    moves.sort(key=lambda rule: (-rule.points if positive else rule.points, rule.rule_id))
    return [{"description": r.description, "points": r.points} for r in moves] or None
