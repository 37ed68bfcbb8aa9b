"""The settings the online path reads: the dbt vars of the build that exported the bundle (so the
server computes features with the build's windows, types and economics, never with defaults of
its own), and the knobs of the server itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from leadscore import settings
from leadscore.settings import check_fields, setting_field

FORMAT_VERSION = 1  # of the bundle; the server refuses another (rebuild, or update leadscore)
ONLINE_DIR = "online"  # under the export folder: <version>/ folders and CURRENT
CURRENT_FILE = "CURRENT"
EVENTS_DIR = "events"  # under the export folder: the log of received events (JSONL by day)
KEEP_VERSIONS = 2  # bundle folders kept; older ones are deleted by the next export
MAX_BODY_BYTES = 1_000_000  # request bodies above this get a 413
MAX_EVENTS_PER_REQUEST = 1_000
MAX_ACTIVITIES_PER_SCORE = 10_000


@dataclass(frozen=True)
class OnlineSettings:
    """The build's vars that decide the online features, tiers and reasons (kinds, bounds and
    defaults in ``leadscore.settings``)."""

    engagement_activity_types: tuple[str, ...] = setting_field("engagement_activity_types")
    sales_touch_activity_types: tuple[str, ...] = setting_field("sales_touch_activity_types")
    include_sales_touch_features: bool = setting_field("include_sales_touch_features")
    engagement_half_life_days: float = setting_field("engagement_half_life_days")
    lead_categorical_attributes: tuple[str, ...] = setting_field("lead_categorical_attributes")
    lead_numeric_attributes: tuple[str, ...] = setting_field("lead_numeric_attributes")
    contact_cost: float = setting_field("contact_cost")
    weekly_sales_capacity: int = setting_field("weekly_sales_capacity")
    n_reasons: int = setting_field("n_reasons")
    rule_base_score: int = setting_field("rule_base_score")
    rule_score_min: int = setting_field("rule_score_min")
    rule_score_max: int = setting_field("rule_score_max")
    placeholder_values: tuple[str, ...] = setting_field("placeholder_values")
    case_insensitive_ids: bool = setting_field("case_insensitive_ids")

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def from_vars(cls, mapping: Mapping[str, Any]) -> OnlineSettings:
        return settings.from_vars(cls, mapping)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def counted_types(self) -> tuple[str, ...]:
        """The activity types with their own count columns (macro counted_activity_types)."""
        sales = self.sales_touch_activity_types if self.include_sales_touch_features else ()
        return (*self.engagement_activity_types, *sales)

    @property
    def activity_types(self) -> tuple[str, ...]:
        """Every activity_type staging can give (the contract's types and 'other'), the codes
        of the state's activity column."""
        return (*self.engagement_activity_types, *self.sales_touch_activity_types, "other")

    def category_of(self, activity_type: str) -> str:
        """activity_category as base_crm__activities maps it."""
        if activity_type in self.engagement_activity_types:
            return "engagement"
        if activity_type in self.sales_touch_activity_types:
            return "sales_touch"
        return "other"
