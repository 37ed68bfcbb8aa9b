{#- The rule scores of every training snapshot: the same rules and the same macro as
    lead_rule_scores, evaluated on training_snapshots, so the rules are judged on the same
    chronological hold-out and metrics as the models (join on lead_id, snapshot_at). -#}
-- depends_on: {{ ref('scoring_rules') }}
-- depends_on: {{ ref('rule_grades') }}
{% set rules_config = scoring_rules_config(ref('training_snapshots')) %}

with

features as (

    select * from {{ ref('training_snapshots') }}

),

final as (

    {{ rule_scores_select(rules_config, 'features', 'snapshot_at') }}

)

select * from final
