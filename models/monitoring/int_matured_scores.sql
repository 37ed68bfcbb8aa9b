{#- Every scoring in lead_score_history whose conversion window has matured by the current
    as_of (as_of + conversion_window_days <= today's as_of), with what really happened: did
    the lead reach the conversion event in [as_of, as_of + window)? The rows model_performance
    judges the scores on. lead_source is the lead's current value (for the by-source view);
    lead_age_days the lead's age at the scoring as_of (for the by-age view: the test split it
    is compared with holds young leads only). -#}
{% set window_days = leadscore_var('conversion_window_days') %}

with

params as (

    select * from {{ ref('int_as_of_resolved') }}

),

history as (

    select * from {{ ref('lead_score_history') }}

),

outcomes as (

    select * from {{ ref('int_lead_outcomes') }}

),

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

final as (

    select
        history.as_of,
        history.model_version,
        history.model_type,
        history.lead_id,
        leads.lead_source,
        leads.created_at as lead_created_at,
        {{ leadscore.fractional_days('leads.created_at', 'history.as_of') }} as lead_age_days,
        history.conversion_probability,
        history.score,
        history.tier,
        coalesce(
            outcomes.converted_at >= history.as_of
            and outcomes.converted_at < {{ leadscore.days_after('history.as_of', window_days) }},
            false
        ) as is_converted
    from history
    cross join params
    inner join leads on history.lead_id = leads.lead_id
    left join outcomes on history.lead_id = outcomes.lead_id
    where {{ leadscore.days_after('history.as_of', window_days) }} <= params.as_of

)

select * from final
