"""One lead's fit features, as the batch build computes them.

``LeadEnricher.enrich(lead)`` gives, for one lead given as a dict, the row that
``models/intermediate/int_leads_enriched.sql`` gives for it, with the values and Python types
DuckDB's ``fetchall`` returns. It mirrors, step by step:

- ``models/staging/crm/base/base_crm__leads.sql`` / ``stg_crm__leads.sql``: lead_id through
  ``clean_key`` and email through ``lower(clean_key(...))`` (``macros/cleaning.sql``); the
  categories and categorical attributes through ``clean_category`` (trimmed, lowercased,
  placeholder values of var placeholder_values → NULL); company_size and numeric attributes
  as DOUBLE (``macros/crm_values.sql``), a company_size that is not positive → NULL;
  ``has_malformed_email`` = ``email not like '%_@_%'``; created_at as a naive UTC timestamp
  (``parse_timestamp``: a TIMESTAMP WITH TIME ZONE is converted to UTC);
- ``int_leads_enriched.sql``: the size band by the range join ``size >= min_employees and
  (size < max_employees + 1 or max_employees is null)``; ``ln(company_size)``; region =
  ``coalesce(region, 'other')`` when country is not NULL; per title dimension the matching
  pattern (``regexp_matches``, RE2: partial match, ASCII ``\\b``) with the lowest priority;
  the email domain (``split_part(email, '@', 2)``) of a well-formed email;
  ``is_corporate_email`` = domain not in free_mail_domains; ``isodow`` and
  ``extract(hour ...)`` of created_at.

Text functions behave like DuckDB's, not Python's: ``duckdb_trim`` strips only the Unicode
space separators (category Zs: ' ', no-break space, ...), not tabs or newlines, and
``duckdb_lower`` lowercases character by character (no final sigma, 'İ' → 'i').

Typed JSON in. Not supported, compared with staging (each raises ``ValueError`` naming the
field and what is expected, which the API turns into a 422):

- company_size and numeric attributes: a JSON number, a plain numeric string (``42``,
  ``4.5``, ``1e3``, with '.' as decimal point whatever var decimal_separator says) or a
  placeholder text (``unknown`` → NULL). Not read: thousands separators, currency symbols,
  employee ranges (``51-200``, ``10,001+``), non-finite numbers, booleans. Staging reads
  the first three and stores NULL for the rest; here they are errors.
- created_at: a ``datetime`` (naive = UTC, aware → converted to UTC). Not read: text
  timestamps (ISO or var timestamp_formats) and dates. A created_at in the future (after
  the call, as staging compares with the run's start) is rejected as staging rejects it.
- lead_id: required (str or int); a missing or empty one is an error (staging: null_key).
- text fields (lead_source, industry, country, job_title, email, categorical attributes):
  str or None only.
Duplicate-key ranking does not apply to one lead. The title patterns are compiled with
Python ``re`` (``re.ASCII``): a pattern must mean the same in RE2 and Python (the seed's do);
among patterns of one dimension with equal priority (the seed's tests forbid it) the first
in seed order wins, and the first matching size band wins (overlapping bands would duplicate
leads in SQL).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from leadscore.settings import default

# Unicode category Zs: exactly what DuckDB's trim() strips (checked over every code point)
_SPACES = (
    " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
# clean_key: an id written as a float (1.0) is its whole number (1)
_FLOAT_KEY = re.compile(r"([+-]?[0-9]+)[.]0+")
# a plain number as text: the unsigned/exponent patterns of macros/crm_values.sql without
# thousands groups (lowercased text, RE2 \d is ASCII)
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.ASCII)

_COLUMNS = (
    "lead_id", "created_at", "lead_source", "company_size", "company_size_band",
    "company_size_log", "company_size_band_midpoint", "industry", "country", "region",
    "seniority", "seniority_level", "job_function", "email_domain", "is_corporate_email",
    "created_day_of_week", "created_hour",
)  # fmt: skip
_CATEGORIES = ("lead_source", "industry", "country", "job_title")


def duckdb_trim(text: str) -> str:
    """DuckDB ``trim(text)``: strips the space separators only (not tab or newline)."""
    return text.strip(_SPACES)


def duckdb_lower(text: str) -> str:
    """DuckDB ``lower(text)``: the simple lowercase of each character (Python's str.lower
    maps 'İ' to two characters and a final 'Σ' to 'ς'; DuckDB does neither)."""
    if text.isascii():
        return text.lower()
    return "".join("i" if ch == "\u0130" else ch.lower() for ch in text)


def _text(value: Any, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{field}: expected a string or null, got {type(value).__name__}")
    return value


def _number(value: Any, field: str, placeholders: frozenset[str]) -> float | None:
    """A number as staging types it (DOUBLE), from a JSON number or a plain numeric text."""
    if value is None:
        return None
    if isinstance(value, str):
        text = duckdb_lower(duckdb_trim(value))
        if text in placeholders or text == "":
            return None
        if _PLAIN_NUMBER.fullmatch(text):
            return float(text)
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(
        f"{field}: expected a finite number (or a plain numeric string such as '250'), "
        f"got {type(value).__name__}"
    )


def _created_at(lead: Mapping[str, Any]) -> datetime:
    value = lead.get("created_at")
    if not isinstance(value, datetime):
        raise ValueError(
            f"created_at: expected a datetime (naive = UTC), got {type(value).__name__}"
        )
    if value.utcoffset() is not None:
        value = value.astimezone(UTC)
    value = value.replace(tzinfo=None)
    if value > datetime.now(UTC).replace(tzinfo=None):
        raise ValueError(f"created_at: {value.isoformat()} (UTC) is in the future")
    return value


class LeadEnricher:
    """int_leads_enriched for one lead (see the module docstring for what it mirrors)."""

    def __init__(
        self,
        seeds: Mapping[str, Sequence[Mapping[str, Any]]],
        categorical_attributes: Sequence[str] = (),
        numeric_attributes: Sequence[str] = (),
        *,
        placeholder_values: Sequence[str] | None = None,
        case_insensitive_ids: bool | None = None,
    ) -> None:
        """seeds: seed name -> rows as DuckDB loads them (company_size_bands,
        country_regions, free_mail_domains, job_title_patterns); the attributes are vars
        lead_categorical_attributes / lead_numeric_attributes; placeholder_values and
        case_insensitive_ids default to the vars' defaults (leadscore.settings)."""
        if placeholder_values is None:
            placeholder_values = default("placeholder_values")
        if case_insensitive_ids is None:
            case_insensitive_ids = default("case_insensitive_ids")
        self._placeholders = frozenset(placeholder_values)
        self._lower_ids = bool(case_insensitive_ids)
        self._categorical = list(categorical_attributes)
        self._numeric = list(numeric_attributes)
        self._bands = [
            (
                _float(row["min_employees"]),
                _float(row["max_employees"]),
                row["company_size_band"],
                _float(row["midpoint_employees"]),
            )
            for row in seeds["company_size_bands"]
        ]
        self._regions = {row["country"]: row["region"] for row in seeds["country_regions"]}
        self._free_mail = frozenset(row["email_domain"] for row in seeds["free_mail_domains"])
        self._titles = _title_patterns(seeds["job_title_patterns"])
        attributes = [name.lower() for name in (*self._categorical, *self._numeric)]
        self._columns = [*_COLUMNS, *attributes]

    @property
    def columns(self) -> list[str]:
        """The output column names, in int_leads_enriched's order."""
        return list(self._columns)

    def enrich(self, lead: Mapping[str, Any]) -> dict[str, Any]:
        """The int_leads_enriched row of one lead; ValueError names a field it cannot use."""
        staged = self._stage(lead)
        size = staged["company_size"]
        band, midpoint = self._band(size)
        country, domain = staged["country"], staged["email_domain"]
        seniority, seniority_level = self._title_match(staged["job_title"], "seniority")
        job_function, _ = self._title_match(staged["job_title"], "function")
        created_at = staged["created_at"]
        row = {
            "lead_id": staged["lead_id"],
            "created_at": created_at,
            "lead_source": staged["lead_source"],
            "company_size": size,
            "company_size_band": band,
            "company_size_log": None if size is None else math.log(size),
            "company_size_band_midpoint": midpoint,
            "industry": staged["industry"],
            "country": country,
            "region": None if country is None else self._regions.get(country, "other"),
            "seniority": seniority,
            "seniority_level": seniority_level,
            "job_function": job_function,
            "email_domain": domain,
            "is_corporate_email": None if domain is None else domain not in self._free_mail,
            "created_day_of_week": created_at.isoweekday(),
            "created_hour": created_at.hour,
        }
        row.update((name, staged[name]) for name in self._columns[len(_COLUMNS) :])
        return row

    def _stage(self, lead: Mapping[str, Any]) -> dict[str, Any]:
        """The lead as stg_crm__leads has it, plus its email_domain."""
        staged: dict[str, Any] = {"lead_id": self._lead_id(lead), "created_at": _created_at(lead)}
        for field in _CATEGORIES:
            staged[field] = self._category(_text(lead.get(field), field))
        email = _clean_key(_text(lead.get("email"), "email"))
        email = None if email is None else duckdb_lower(email)
        # has_malformed_email is `email not like '%_@_%'`: an '@' with a character each side
        malformed = email is None or "@" not in email[1:-1]
        staged["email_domain"] = None if malformed else email.split("@")[1]
        size = _number(lead.get("company_size"), "company_size", self._placeholders)
        staged["company_size"] = size if size is not None and size > 0 else None
        for attr in self._categorical:
            staged[attr.lower()] = self._category(_text(_attribute(lead, attr), attr))
        for attr in self._numeric:
            staged[attr.lower()] = _number(_attribute(lead, attr), attr, self._placeholders)
        return staged

    def _lead_id(self, lead: Mapping[str, Any]) -> str:
        value = lead.get("lead_id")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        key = _clean_key(value) if isinstance(value, str) else None
        if key is None:
            raise ValueError(f"lead_id: expected a non-empty string, got {type(value).__name__}")
        return duckdb_lower(key) if self._lower_ids else key

    def _category(self, value: str | None) -> str | None:
        """clean_category (macros/cleaning.sql) of a text field."""
        if value is None:
            return None
        text = duckdb_lower(duckdb_trim(value))
        return None if text in self._placeholders else text

    def _band(self, size: float | None) -> tuple[str | None, float | None]:
        """(company_size_band, midpoint_employees) of the size_band_of range join."""
        if size is None:
            return None, None
        for low, high, band, midpoint in self._bands:
            if low is not None and size >= low and (high is None or size < high + 1):
                return band, midpoint
        return None, None

    def _title_match(self, title: str | None, dimension: str) -> tuple[str | None, int | None]:
        """(value, level) of the lowest-priority pattern of `dimension` matching `title`."""
        if title is not None:
            for pattern, value, level in self._titles.get(dimension, ()):
                if pattern.search(title):
                    return value, level
        return None, None


def _clean_key(value: str | None) -> str | None:
    """clean_key (macros/cleaning.sql) without the case_insensitive_ids lowercasing:
    trimmed, empty → NULL, '12.00' → '12'."""
    if value is None:
        return None
    text = duckdb_trim(value)
    if text == "":
        return None
    whole = _FLOAT_KEY.fullmatch(text)
    return whole.group(1) if whole else text


def _attribute(lead: Mapping[str, Any], attr: str) -> Any:
    """A custom attribute's value, under its var name or lowercased (as staged)."""
    return lead[attr] if attr in lead else lead.get(attr.lower())


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _title_patterns(
    rows: Sequence[Mapping[str, Any]],
) -> dict[str, list[tuple[re.Pattern[str], str, int | None]]]:
    """dimension -> [(compiled pattern, value, level)] by priority (job_title_patterns)."""
    by_dimension: dict[str, list[tuple[Any, re.Pattern[str], str, int | None]]] = {}
    for order, row in enumerate(rows):
        if row["pattern"] is None:
            continue  # regexp_matches(title, NULL) is NULL: the join drops it
        # `order by priority`: NULLS LAST, then seed order
        key = (row["priority"] is None, row["priority"] or 0, order)
        pattern = re.compile(row["pattern"], re.ASCII)
        by_dimension.setdefault(row["dimension"], []).append((key, pattern, row["value"],
                                                              row["level"]))  # fmt: skip
    return {
        dimension: [entry[1:] for entry in sorted(entries, key=lambda e: e[0])]
        for dimension, entries in by_dimension.items()
    }
