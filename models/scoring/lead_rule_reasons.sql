{#- One row per lead of lead_rule_score_breakdown with a rule that moved its score: the
    rules that added points (ups, most points first) and took points (downs, most taken
    first), each a list of {description, points}; ties by rule_id. The reasons of the rule
    fallback in lead_predictions. -#}
with

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

final as (

    select
        lead_id,
        list(struct_pack(description, points) order by points desc, rule_id asc)
        filter (where points > 0) as ups,
        list(struct_pack(description, points) order by points asc, rule_id asc)
        filter (where points < 0) as downs
    from moves
    group by lead_id

)

select * from final
