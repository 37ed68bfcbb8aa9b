{#- Why a lead has its rule score: one row per matched rule of each lead in lead_features,
    plus a row rule_id 'base' with the base score, so the points of a lead sum to its
    rule_score_unclamped. One scan: every lead is paired with every rule and one
    conditional expression per rule decides whether it matched (no join per rule). -#}
-- depends_on: {{ ref('scoring_rules') }}
-- depends_on: {{ ref('rule_grades') }}
{% set rules_config = scoring_rules_config(ref('lead_features')) %}

with

features as (

    select * from {{ ref('lead_features') }}

),

rules as (

    {{ rule_rows_select(rules_config) }}

),

final as (

    select
        features.lead_id,
        features.as_of,
        rules.rule_id,
        rules.dimension,
        rules.feature,
        {{ rule_feature_value(rules_config, 'rules.rule_id', 'features') }} as feature_value,
        rules.points,
        rules.description
    from features
    cross join rules
    where {{ rule_matched_by_id(rules_config, 'rules.rule_id', 'features') }}

)

select * from final
