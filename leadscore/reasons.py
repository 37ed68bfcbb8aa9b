"""Score reasons as short text a salesperson can read: (feature column, raw value) → phrase.

The phrases live in the editable seed ``seeds/feature_labels.csv``, one row per feature of
``lead_features``; :meth:`ReasonLabels.from_rows` validates those rows once and
:meth:`ReasonLabels.render` turns values into phrases. Decisions:

- ``kind`` decides how ``{value}`` is formatted: count → whole number with thousands
  separators; number → one decimal; days → whole days elapsed (truncated: 12.9 days is
  "12 days"); money → ``$12,000``; percent → a fraction times 100, whole percent; hour →
  ``14:00``; day_of_week → the ISO day's name (1 = Monday, as ``int_leads_enriched`` computes
  it); category → the text with underscores as spaces; log_count → the count behind a
  ``ln()`` feature (``company_size_log`` → employees); flag → no value, ``template`` is the
  true text and ``template_zero`` the false text.
- The zero/one templates are chosen on the number as shown (0.04 shown as "0.0" reads as
  zero), and only for quantities (not for hours, days of week or categories).
- Empty optional cells fall back when the seed is read: ``template_one`` and
  ``template_zero`` → ``template`` (a flag's false text → "<label>: no"),
  ``template_missing`` → "<label> unknown", ``label`` → the feature with underscores as
  spaces. A :class:`FeatureLabel` therefore holds the effective templates.
- ``{value}`` is replaced with ``str.replace``, not ``str.format``, and any other brace (a
  typo such as ``{valeu}``) is rejected when the seed is read, not when a lead is rendered.
- A feature without a row (the user's custom attributes, vars lead_categorical_attributes /
  lead_numeric_attributes) renders generically: "<feature with spaces>: <value>".
- NULL and NaN are both missing.
- :meth:`ReasonLabels.render` memoizes per feature in two levels: on the raw value (one dict
  lookup when a value repeats: counts, categories, flags) and, on a miss, on the value as
  shown (a continuous feature's new float is rounded, then usually found: 12.4 and 12.7 days
  both read "12 days"; such floats are not kept under their raw value). Each memo is emptied
  when it reaches ``cache_size`` entries, which bounds the memory of features whose every
  value is new (e.g. a continuous custom attribute). The raw value is the key, so
  ``True`` and ``1`` of one feature share an entry; a feature's values come from one typed
  Arrow column, so they never meet. NaN is never stored (it never equals itself, so it would
  never be found again).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SEED = "seeds/feature_labels.csv"
PLACEHOLDER = "{value}"
DAY_NAMES: tuple[str, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip


def _count(value: Any) -> int:
    return round(float(value))


def _number(value: Any) -> float:
    return round(float(value), 1) + 0.0  # + 0.0 turns -0.0 into 0.0


def _days(value: Any) -> int:
    return int(float(value))


def _percent(value: Any) -> int:
    return round(float(value) * 100)


def _log_count(value: Any) -> int:
    return round(math.exp(float(value)))


def _money_text(shown: int) -> str:
    return f"-${-shown:,}" if shown < 0 else f"${shown:,}"


def _hour_text(value: Any) -> str:
    return f"{int(value):02d}:00"


def _day_name(value: Any) -> str:
    day = int(value)
    if not 1 <= day <= 7:
        raise ValueError("expected an ISO day of week, 1 (Monday) to 7 (Sunday)")
    return DAY_NAMES[day - 1]


def _category_text(value: Any) -> str:
    return str(value).replace("_", " ")


# Quantity kinds: raw value → the number as shown, which picks the zero/one templates.
QUANTIZERS: dict[str, Callable[[Any], int | float]] = {
    "count": _count,
    "number": _number,
    "days": _days,
    "money": _count,
    "percent": _percent,
    "log_count": _log_count,
}
# Every kind but flag: the value as shown → the text that replaces {value}.
FORMATS: dict[str, Callable[[Any], str]] = {
    "count": "{:,}".format,
    "number": "{:,.1f}".format,
    "days": "{:,}".format,
    "money": _money_text,
    "percent": "{:,}%".format,
    "log_count": "{:,}".format,
    "hour": _hour_text,
    "day_of_week": _day_name,
    "category": _category_text,
}
KINDS: tuple[str, ...] = (*FORMATS, "flag")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _generic_value(value: Any) -> str:
    """A custom attribute's value: yes/no, 1,234, 0.25 (at most 2 decimals) or its text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value).replace("_", " ")


def _render_generic(feature: str, value: Any) -> str:
    name = feature.replace("_", " ")
    return f"{name} unknown" if _is_missing(value) else f"{name}: {_generic_value(value)}"


def _text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if _is_missing(value) else str(value).strip()


@dataclass(frozen=True)
class FeatureLabel:
    """One row of the seed with its fallbacks applied: how one feature's value reads."""

    feature: str
    kind: str
    label: str
    template: str
    template_one: str
    template_zero: str
    template_missing: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any], where: str) -> FeatureLabel:
        """Validate a seed row (``where`` names it in errors) and apply the fallbacks."""
        feature, kind, template = _text(row, "feature"), _text(row, "kind"), _text(row, "template")

        def fail(problem: str) -> ValueError:
            return ValueError(f"{where} (feature '{feature}'): {problem}; edit {SEED}")

        if not feature:
            raise fail("feature is empty")
        if kind not in KINDS:
            raise fail(f"kind '{kind}' is not one of {' | '.join(KINDS)}")
        if not template:
            raise fail("template is empty")
        if kind != "flag" and PLACEHOLDER not in template:
            raise fail(f"template '{template}' has no {PLACEHOLDER} (kind {kind} shows a value)")
        label = _text(row, "label") or feature.replace("_", " ")
        optional = {c: _text(row, c) for c in ("template_one", "template_zero", "template_missing")}
        for column, text in {"template": template, **optional}.items():
            takes_value = kind != "flag" and column != "template_missing"
            rest = text.replace(PLACEHOLDER, "") if takes_value else text
            if "{" in rest or "}" in rest:
                hint = f"only {PLACEHOLDER} is replaced" if takes_value else "there is no value"
                raise fail(f"{column} '{text}' has braces that will not be replaced ({hint})")
        return cls(
            feature=feature,
            kind=kind,
            label=label,
            template=template,
            template_one=optional["template_one"] or template,
            template_zero=optional["template_zero"]
            or (f"{label}: no" if kind == "flag" else template),
            template_missing=optional["template_missing"] or f"{label} unknown",
        )

    def shown(self, value: Any) -> Any:
        """The value as the phrase shows it: rounded for quantity kinds, ``None`` if missing."""
        if _is_missing(value):
            return None
        if self.kind not in QUANTIZERS:
            return value
        try:
            return QUANTIZERS[self.kind](value)
        except (TypeError, ValueError, OverflowError) as err:
            raise self._cannot_render(value, err) from err

    def phrase(self, shown: Any) -> str:
        """The phrase for a value as shown (see :meth:`shown`)."""
        if shown is None:
            return self.template_missing
        if self.kind == "flag":
            return self.template if shown else self.template_zero
        template = self.template
        if self.kind in QUANTIZERS and shown == 0:
            template = self.template_zero
        elif self.kind in QUANTIZERS and shown == 1:
            template = self.template_one
        try:
            return template.replace(PLACEHOLDER, FORMATS[self.kind](shown))
        except (TypeError, ValueError) as err:
            raise self._cannot_render(shown, err) from err

    def _cannot_render(self, value: Any, err: Exception) -> ValueError:
        return ValueError(
            f"cannot render {self.feature}={value!r} as kind {self.kind}: {err}; fix the value "
            f"or the feature's kind in {SEED}"
        )


def _remember(memo: dict[Any, str], key: Any, text: str, cache_size: int) -> str:
    """Store text under key, emptying the memo first when it is full; NaN is never stored."""
    if key == key:
        if len(memo) >= cache_size:
            memo.clear()
        memo[key] = text
    return text


class ReasonLabels:
    """The phrases of every labelled feature, with a memoized :meth:`render`.

    ``cache_size`` caps each memo of each feature (see the module docstring): far above the
    distinct values of a count, a category or a rounded number, so those stay cached.
    """

    def __init__(self, labels: Mapping[str, FeatureLabel], cache_size: int = 10_000) -> None:
        self._labels = dict(labels)
        self._cache_size = cache_size
        self._by_value: dict[str, dict[Any, str]] = {}  # feature → raw value → text
        # labelled feature → value as shown → text
        self._by_shown: dict[str, dict[Any, str]] = {feature: {} for feature in self._labels}

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> ReasonLabels:
        """Validate the seed rows (csv.DictReader rows or the seed table's Arrow rows).

        Errors name the row by its line in the csv (the header is line 1) and its feature.
        """
        labels: dict[str, FeatureLabel] = {}
        lines: dict[str, int] = {}
        for line, row in enumerate(rows, start=2):
            label = FeatureLabel.from_row(row, f"{SEED} line {line}")
            if label.feature in labels:
                raise ValueError(
                    f"{SEED} line {line} (feature '{label.feature}'): duplicate of line "
                    f"{lines[label.feature]}; keep one row per feature; edit {SEED}"
                )
            labels[label.feature] = label
            lines[label.feature] = line
        return cls(labels)

    def render(self, feature: str, value: Any) -> str:
        """The reason text for a feature's raw value; generic for a feature without a row."""
        by_value = self._by_value.get(feature)
        if by_value is None:
            by_value = self._by_value[feature] = {}
        text = by_value.get(value)
        return self._render_new(feature, value, by_value) if text is None else text

    def _render_new(self, feature: str, value: Any, by_value: dict[Any, str]) -> str:
        """A value not in the raw-value memo: a new value, or a float known by its shown value."""
        label = self._labels.get(feature)
        if label is None:
            return _remember(by_value, value, _render_generic(feature, value), self._cache_size)
        shown = label.shown(value)
        by_shown = self._by_shown[feature]
        text = by_shown.get(shown)
        if text is None:
            text = _remember(by_shown, shown, label.phrase(shown), self._cache_size)
        if shown == value:  # 4, 'software', True; not 12.4 days: such floats rarely repeat
            _remember(by_value, value, text, self._cache_size)
        return text


def rule_reason(description: str, points: float) -> str:
    """A matched rule of the rule score: "Enterprise company (over 1000 employees) (+15 pts)"."""
    shown = f"{points:+,.0f}" if float(points).is_integer() else f"{points:+,.1f}"
    unit = "pt" if abs(points) == 1 else "pts"
    return f"{description.strip()} ({shown} {unit})"
