{#- The SDR alert list: leads of this run whose score moved by at least
    score_change_alert_points since their previous scoring (the latest earlier as_of in
    lead_score_history; of several models scored then, the latest run), with both scores,
    tiers and reasons. A lead scored for the first time is not listed. -#}
{% set alert_points = leadscore_var('score_change_alert_points') %}

with

history as (

    select * from {{ ref('lead_score_history') }}

),

current_scores as (

    select * from {{ ref('lead_scores') }}

),

earlier as (

    select history.*
    from history
    inner join current_scores on history.lead_id = current_scores.lead_id
    where history.as_of < current_scores.as_of

),

previous as (

    select *
    from earlier
    qualify row_number() over (
        partition by lead_id order by as_of desc, scored_at desc, model_version desc
    ) = 1

),

final as (

    select
        current_scores.lead_id,
        current_scores.as_of,
        previous.as_of as previous_as_of,
        previous.score as previous_score,
        current_scores.score,
        current_scores.score - previous.score as score_change,
        case when current_scores.score > previous.score then 'up' else 'down' end as direction,
        previous.tier as previous_tier,
        current_scores.tier,
        previous.tier <> current_scores.tier as is_tier_change,
        previous.model_version as previous_model_version,
        current_scores.model_version,
        previous.top_reasons_text as previous_reasons_text,
        current_scores.top_reasons_text,
        current_scores.recommended_action
    from current_scores
    inner join previous on current_scores.lead_id = previous.lead_id
    where abs(current_scores.score - previous.score) >= {{ alert_points }}

)

select * from final
