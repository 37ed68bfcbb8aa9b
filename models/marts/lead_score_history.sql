{#- Every scoring of every lead: one row per (lead_id, as_of), model_version a column,
    appended by each run. A rerun for the same as_of, even with another model, replaces that
    day's rows (delete+insert on as_of), so a day is never held twice; other as_of dates are
    never touched, and full_refresh is off so `dbt build --full-refresh` cannot wipe the
    history. -#}
{{
    config(
        materialized='incremental',
        unique_key='as_of',
        incremental_strategy='delete+insert',
        full_refresh=false,
        on_schema_change='append_new_columns',
        post_hook="{{ keep_latest_run(['lead_id', 'as_of']) }}",
    )
}}

with

scores as (

    select * from {{ ref('lead_scores') }}

),

final as (

    select
        lead_id,
        as_of,
        model_version,
        model_type,
        conversion_probability,
        score,
        tier,
        tier_basis,
        priority_rank,
        expected_value,
        rule_score,
        rule_grade,
        segment,
        recommended_action,
        top_reasons_text,
        scored_at
    from scores

)

select * from final
