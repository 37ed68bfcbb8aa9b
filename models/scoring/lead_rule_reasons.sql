{#- The rule fallback's scores and reasons: one row per lead of lead_rule_scores with its
    as_of and rule_score, the rules that added points (ups, most points first) and the rules
    that took points (downs, most taken first), each a list of {description, points} (NULL
    when none); ties by rule_id. The base row and zero-point rules are no reason. Read by
    lead_predictions when no model scores. -#}
with

rule_scores as (

    select * from {{ ref('lead_rule_scores') }}

),

breakdown as (

    select * from {{ ref('lead_rule_score_breakdown') }}

),

moves as (

    select
        lead_id,
        rule_id,
        description,
        points
    from breakdown
    where rule_id <> 'base' and points <> 0

),

per_lead as (

    select
        lead_id,
        list(struct_pack(description, points) order by points desc, rule_id asc)
        filter (where points > 0) as ups,
        list(struct_pack(description, points) order by points asc, rule_id asc)
        filter (where points < 0) as downs
    from moves
    group by lead_id

),

final as (

    select
        rule_scores.lead_id,
        rule_scores.as_of,
        rule_scores.rule_score,
        per_lead.ups,
        per_lead.downs
    from rule_scores
    left join per_lead on rule_scores.lead_id = per_lead.lead_id

)

select * from final
