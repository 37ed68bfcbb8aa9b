"""SQL text from values, for the places where a DuckDB API takes SQL and no parameters
(``relation.filter("...")``, identifiers in ``con.execute``): the one way Python code of the
package writes a value into SQL. Prefer ``con.execute(sql, [params])`` where it exists.

The rules are those of the dbt macros in ``macros/quoting.sql`` (docs/rules.md "What reaches
SQL"): quotes doubled; tab, newline and carriage return kept inside a literal, any other
control character refused (DECISIONS.md "Control characters in SQL literals").
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Value = str | int | float | bool | date | datetime | None


def _checked(text: str, what: str) -> str:
    bad = _CONTROL.search(text)
    if bad:
        raise ValueError(
            f"{what} {text!r} contains the control character {bad.group(0)!r}; remove it "
            "(tab, newline and carriage return are kept as data, other control characters "
            "are refused)"
        )
    return text


def literal(value: Value, what: str = "a value written into SQL") -> str:
    """The SQL literal of ``value``: NULL, TRUE/FALSE, a number, TIMESTAMP '...' (an aware
    datetime converted to naive UTC, as the tables store it), DATE '...' or '...' with each
    quote doubled. ``what`` names the value in the error."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what} is {value!r}; SQL has no literal for it")
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + _checked(value, what).replace("'", "''") + "'"
    raise TypeError(f"{what} is a {type(value).__name__}; pass text, a number, a date or None")


def literal_list(values: list[Value] | tuple[Value, ...], what: str = "a list value") -> str:
    """``(v1, v2, ...)`` of literals; ``(NULL)`` for no values (an ``in`` that matches
    nothing)."""
    return "(" + (", ".join(literal(v, what) for v in values) or "NULL") + ")"


def identifier(name: str, what: str = "a name written into SQL") -> str:
    """``name`` as a double-quoted identifier (each double quote doubled)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} must be a non-empty text, got {name!r}")
    return '"' + _checked(name, what).replace('"', '""') + '"'
