"""GeneratorConfig: the arguments of one generation run, validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from leadscore.demo.generate.contract import DRIFT_KINDS, SCENARIOS

DEFAULT_END_DATE = date(2026, 9, 30)
DEFAULT_CHUNK_SIZE = 200_000


@dataclass(frozen=True)
class GeneratorConfig:
    """Arguments of one generation run; the output depends on nothing else."""

    n_leads: int
    seed: int
    end_date: date = DEFAULT_END_DATE
    months: int = 18
    fault_rate: float = 0.0
    chunk_size: int = DEFAULT_CHUNK_SIZE
    drift_after: date | None = None  # first day of the drift (None: no drift)
    drift_kinds: tuple[str, ...] = DRIFT_KINDS  # used only with drift_after
    scenario: str = "b2b"
    shift_after: date | None = None  # b2c_shift: first day of the base-rate jump (None: default)

    def __post_init__(self) -> None:
        if self.n_leads < 1 or self.n_leads > 99_999_999:
            raise ValueError(f"n_leads must be in 1..99,999,999, got {self.n_leads}")
        if self.months < 1:
            raise ValueError(f"months must be >= 1, got {self.months}")
        if not 0.0 <= self.fault_rate <= 0.05:
            raise ValueError(f"fault_rate must be in [0, 0.05], got {self.fault_rate}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        self._check_drift()
        self._check_scenario()

    def _check_scenario(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(
                f"unknown scenario {self.scenario!r}; choose from {', '.join(SCENARIOS)}"
            )
        if self.scenario == "b2b":
            if self.shift_after is not None:
                raise ValueError(
                    "shift_after applies to scenario b2c_shift only; for b2b data use "
                    "drift_after (--drift-after) or leave it unset"
                )
            return
        if self.fault_rate > 0 or self.drift_after is not None:
            raise ValueError(
                f"scenario {self.scenario} injects no faults and no drift; leave fault_rate "
                "(--faults) at 0 and drift_after (--drift-after) unset, or use scenario b2b"
            )
        if not self.start_date < self.shift_date <= self.end_date:
            raise ValueError(
                f"shift_after {self.shift_date.isoformat()} is outside the data period "
                f"{self.start_date.isoformat()}..{self.end_date.isoformat()}; choose a date "
                f"after {self.start_date.isoformat()} and on or before "
                f"{self.end_date.isoformat()} (default: four months before the end)"
            )

    @property
    def shift_date(self) -> date:
        """b2c_shift: first day of the base-rate jump (default: the last four months)."""
        if self.shift_after is not None:
            return self.shift_after
        from leadscore.demo.generate import b2c  # b2c imports this module

        return b2c.default_shift_after(self.end_date)

    def _check_drift(self) -> None:
        unknown = [k for k in self.drift_kinds if k not in DRIFT_KINDS]
        if unknown:
            raise ValueError(
                f"unknown drift kind {', '.join(map(repr, unknown))}; "
                f"choose from {', '.join(DRIFT_KINDS)} (comma-separated)"
            )
        # canonical order without repeats, so equal choices give equal configs and output
        object.__setattr__(
            self, "drift_kinds", tuple(k for k in DRIFT_KINDS if k in self.drift_kinds)
        )
        if self.drift_after is None:
            return
        if not self.drift_kinds:
            raise ValueError(
                f"drift_kinds is empty; name at least one of {', '.join(DRIFT_KINDS)}, "
                "or leave drift_after unset for data without drift"
            )
        first = self.start_date
        if not first < self.drift_after <= self.end_date:
            raise ValueError(
                f"drift_after {self.drift_after.isoformat()} is outside the data period "
                f"{first.isoformat()}..{self.end_date.isoformat()}; choose a date after "
                f"{first.isoformat()} and on or before {self.end_date.isoformat()} "
                "(e.g. three months before the end)"
            )

    @property
    def start_date(self) -> date:
        """First day of the period."""
        return _shift_months(self.end_date + timedelta(days=1), -self.months)

    @property
    def drift_from_us(self) -> int | None:
        """Start of the drift (drift_after 00:00) in epoch microseconds; None without drift."""
        return None if self.drift_after is None else _epoch_us(self.drift_after)

    def drifts(self, kind: str) -> bool:
        """Whether drift of this kind is injected."""
        return self.drift_after is not None and kind in self.drift_kinds

    @property
    def end_us(self) -> int:
        """Exclusive end of the period: midnight after end_date, in epoch microseconds."""
        return _epoch_us(self.end_date + timedelta(days=1))

    @property
    def start_us(self) -> int:
        """Start of the period: ``months`` calendar months before end_us."""
        return _epoch_us(self.start_date)

    @property
    def start_weekday(self) -> int:
        return self.start_date.weekday()

    def chunks(self) -> list[tuple[int, int]]:
        """(first lead index, number of leads) per chunk."""
        return [
            (first, min(self.chunk_size, self.n_leads - first))
            for first in range(0, self.n_leads, self.chunk_size)
        ]


def _epoch_us(d: date) -> int:
    return (datetime(d.year, d.month, d.day) - datetime(1970, 1, 1)) // timedelta(microseconds=1)


def _shift_months(d: date, months: int) -> date:
    years, month0 = divmod(d.month - 1 + months, 12)
    year = d.year + years
    next_month = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month0 + 1, min(d.day, last_day))
