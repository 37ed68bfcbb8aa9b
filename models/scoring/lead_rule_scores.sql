{#- Rule-based scores of every lead open at as_of: the editable rules of seed scoring_rules
    evaluated on lead_features (macros/scoring_rules.sql). rule_score = base + fit points +
    engagement points, clamped to [rule_score_min, rule_score_max]; rule_grade from seed
    rule_grades. lead_rule_score_breakdown shows which rules gave the points. -#}
-- depends_on: {{ ref('scoring_rules') }}
-- depends_on: {{ ref('rule_grades') }}
{% set rules_config = scoring_rules_config(ref('lead_features')) %}

with

features as (

    select * from {{ ref('lead_features') }}

),

final as (

    {{ rule_scores_select(rules_config, 'features', 'as_of') }}

)

select * from final
