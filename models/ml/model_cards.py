"""model_cards: a markdown model card per trained version, also written under exports/."""

from pathlib import Path

from leadscore.registry_tables import write_model_cards


def model(dbt, session):
    dbt.config(materialized="table")
    export_dir = dbt.config.get("export_dir")
    registry = dbt.ref("model_registry").filter("artifact_json is not null").to_arrow_table()
    return write_model_cards(registry, Path(export_dir) / "model_cards")
