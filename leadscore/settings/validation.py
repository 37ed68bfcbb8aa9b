"""Checking values against the table: ``validate(name, value)`` and the config objects built
through it (``setting_field``, ``from_vars``, ``check_fields``)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import field, fields
from typing import Any, TypeVar

from leadscore.settings.table import (
    IDENTIFIER,
    LIST_KINDS,
    NULL_TEXTS,
    TIMESTAMP,
    Setting,
    setting,
)

# ---------------------------------------------------------------------------------------------
# validation


def validate(name: str, value: Any) -> Any:
    """``value`` of setting ``name`` checked and coerced (lists → tuples, numeric text →
    numbers, 'true' → True); ``None`` for a nullable setting left unset. Raises ValueError
    naming the var, the bad value and the fix."""
    s = setting(name)
    if _is_null(s, value):
        if s.nullable:
            return None
        raise s.error(value)
    check = _CHECKS[s.kind]
    return check(s, value)


def _is_null(s: Setting, value: Any) -> bool:
    if value is None:
        return True
    # dbt renders a null var in yml ("{{ var('x') }}") as the text None
    if isinstance(value, str) and s.nullable:
        return value.strip().lower() in NULL_TEXTS
    return False


def _number(value: Any) -> float | None:
    """A finite number from a number or numeric text; None for anything else (booleans)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number: float = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _in_bounds(s: Setting, number: float) -> bool:
    closed = "both" if s.kind in ("int", "int_range") else s.closed
    too_low = s.low is not None and (
        number < s.low or (number == s.low and closed in ("right", "neither"))
    )
    too_high = s.high is not None and (
        number > s.high or (number == s.high and closed in ("left", "neither"))
    )
    return not (too_low or too_high)


def _check_int(s: Setting, value: Any) -> int:
    number = _number(value)
    if number is None or not float(number).is_integer():
        raise s.error(value)
    whole = int(number)
    if not _in_bounds(s, whole):
        raise s.error(value, s.bound)
    return whole


def _check_number(s: Setting, value: Any) -> float:
    number = _number(value)
    if number is None:
        raise s.error(value)
    if not _in_bounds(s, number):
        raise s.error(value, s.bound)
    return float(number)


def _check_bool(s: Setting, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise s.error(value)


def _check_choice(s: Setting, value: Any) -> str:
    if not isinstance(value, str) or value not in s.choices:
        raise s.error(value)
    return value


def _check_name(s: Setting, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(IDENTIFIER, value):
        raise s.error(value)
    return value


def _check_text(s: Setting, value: Any) -> str:
    if isinstance(value, list | tuple | dict | bool):
        raise s.error(value)
    return str(value).strip()


def _check_timestamp(s: Setting, value: Any) -> str:
    text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value).strip()
    if not isinstance(value, str | dt.date) or not re.fullmatch(TIMESTAMP, text):
        raise s.error(value)
    return text.replace("T", " ")


def _check_list(s: Setting, value: Any) -> tuple[str, ...]:
    items: Any = value
    if isinstance(value, str) and s.kind != "texts":
        items = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise s.error(value)
    if s.kind == "names" and not all(re.fullmatch(IDENTIFIER, v) for v in items):
        raise s.error(value)
    if s.kind == "choices" and any(v not in s.choices for v in items):
        raise s.error(value)
    if (s.non_empty and not items) or (s.distinct and len(set(items)) != len(items)):
        raise s.error(value)
    return tuple(items)


def _check_int_range(s: Setting, value: Any) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = (
        isinstance(pair, list | tuple)
        and len(pair) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        and _in_bounds(s, pair[0])
        and _in_bounds(s, pair[1])
        and pair[0] <= pair[1]
    )
    if not ok:
        raise s.error(value, s.expected)
    return (pair[0], pair[1])


_CHECKS = {
    "int": _check_int,
    "number": _check_number,
    "bool": _check_bool,
    "choice": _check_choice,
    "name": _check_name,
    "text": _check_text,
    "timestamp": _check_timestamp,
    "names": _check_list,
    "choices": _check_list,
    "texts": _check_list,
    "int_range": _check_int_range,
}


# ---------------------------------------------------------------------------------------------
# config objects built from the table

C = TypeVar("C")


def setting_field(name: str) -> Any:
    """A dataclass field for setting ``name``: its default is the table's, and it remembers the
    var it is read from (``from_vars``, ``vars_of``)."""
    return field(default=setting(name).default, metadata={"setting": name})


def vars_of(cls: type) -> tuple[str, ...]:
    """The settings a config class reads, in field order."""
    return tuple(f.metadata["setting"] for f in fields(cls) if "setting" in f.metadata)


def check_fields(config: Any) -> None:
    """Validate (and coerce in place) every setting field of a frozen config dataclass; its
    ``__post_init__`` calls this, so direct construction is checked like ``from_vars``."""
    for f in fields(config):
        if "setting" in f.metadata:
            value = validate(f.metadata["setting"], getattr(config, f.name))
            object.__setattr__(config, f.name, value)


def from_vars(cls: type[C], mapping: Mapping[str, Any]) -> C:
    """Build config class ``cls`` from dbt vars (or any mapping): keys are the setting names,
    unknown keys are ignored (the mapping may hold every var of the project), a missing or
    null value keeps the default (a nullable setting's null is null). Raises ValueError
    naming the var and the fix."""
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        name = f.metadata.get("setting")
        if name is None or name not in mapping:
            continue
        value = mapping[name]
        s = setting(name)
        if (value is None or value == "") and not s.nullable and s.kind not in LIST_KINDS:
            continue
        kwargs[f.name] = validate(name, value)
    return cls(**kwargs)
