"""online_state: the serving bundle of `leadscore serve` (export_dir/online/)."""

from leadscore.serve.export import export_online_state


def model(dbt, session):  # materialized: table (models/exports/_exports.yml)
    # fmt: off
    return export_online_state(session, dbt.config.get("export_dir"), [
        dbt.ref("int_as_of_resolved"), dbt.ref("lead_features"), dbt.ref("int_leads_enriched"),
        dbt.ref("stg_crm__activities"), dbt.ref("int_domain_wins_accumulated"),
        dbt.ref("model_registry"), dbt.ref("lead_scores"), dbt.ref("feature_labels"),
        dbt.ref("int_deal_values"), dbt.ref("int_labelled_snapshots"),
        dbt.ref("company_size_bands"), dbt.ref("country_regions"), dbt.ref("free_mail_domains"),
        dbt.ref("job_title_patterns"), dbt.ref("scoring_rules"), dbt.ref("rule_grades"),
        dbt.ref("recommended_actions")], dbt.config.get("online_vars"))
