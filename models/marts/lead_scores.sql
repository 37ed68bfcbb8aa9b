{#- What SDRs and dashboards read every morning: every lead open at as_of with its calibrated
    probability (champion model, or the rule fallback: model_type says which), a 1–100 score,
    an economic tier, the rule score and grade, reasons and a recommended action.

    Tiers from economics: expected_value = probability x value of one conversion (by company
    size band, int_deal_values) - contact_cost. hot = positive expected value and among the
    weekly_sales_capacity leads with the highest one; warm = positive but beyond capacity;
    cold = a call is expected to cost more than it returns. Without a probability or a deal
    value (tier_basis = 'rule_grade') the grade's fallback_tier of seeds/rule_grades.csv
    decides, hot again capped by capacity (ranked by rule score).

    score = the probability in percent, rounded up and kept in 1..100 (so 35 reads "about a
    35 % chance"); without a probability the rule score rescaled to 1..100. -#}
{% do leadscore.check_seed_ids('recommended_actions',
                             ['tier', 'rule_grade', 'recommended_action']) %}
{% set contact_cost = leadscore_var('contact_cost') %}
{% set capacity = leadscore_var('weekly_sales_capacity') %}

with

predictions as (

    select * from {{ ref('lead_predictions') }}

),

rule_scores as (

    select * from {{ ref('lead_rule_scores') }}

),

features as (

    select * from {{ ref('lead_features') }}

),

deal_values as (

    select * from {{ ref('int_deal_values') }}

),

grades as (

    select * from {{ ref('rule_grades') }}

),

actions as (

    select * from {{ ref('recommended_actions') }}

),

segments as (

    select * from {{ ref('lead_segments') }}

),

valued as (

    select
        predictions.lead_id,
        predictions.as_of,
        predictions.model_version,
        predictions.model_type,
        predictions.conversion_probability,
        predictions.logit,
        predictions.top_reasons,
        predictions.top_reasons_text,
        predictions.reason_details,
        predictions.scoring_notes,
        rule_scores.rule_score,
        rule_scores.rule_grade,
        grades.fallback_tier,
        deal_values.value_per_conversion as expected_deal_value,
        predictions.conversion_probability * deal_values.value_per_conversion
        - {{ contact_cost }} as expected_value
    from predictions
    inner join rule_scores on predictions.lead_id = rule_scores.lead_id
    inner join features on predictions.lead_id = features.lead_id
    left join grades on rule_scores.rule_grade = grades.grade
    left join deal_values
        on coalesce(features.company_size_band, '(unknown)') = deal_values.company_size_band

),

ranked as (

    select
        *,
        case
            when expected_value is not null then 'expected_value' else 'rule_grade'
        end as tier_basis,
        row_number() over (
            order by
                expected_value desc nulls last,
                logit desc nulls last,
                rule_score desc,
                lead_id asc
        ) as priority_rank
    from valued

),

tiered as (

    select
        *,
        case
            when tier_basis = 'expected_value' and expected_value > 0
                then case when priority_rank <= {{ capacity }} then 'hot' else 'warm' end
            when tier_basis = 'expected_value' then 'cold'
            when fallback_tier = 'hot' and priority_rank > {{ capacity }} then 'warm'
            else fallback_tier
        end as tier
    from ranked

),

final as (

    select
        tiered.lead_id,
        tiered.as_of,
        tiered.model_version,
        tiered.model_type,
        tiered.conversion_probability,
        {{ leadscore.lead_score('tiered.conversion_probability', 'tiered.rule_score') }}
            as score,
        tiered.tier,
        tiered.tier_basis,
        tiered.priority_rank,
        tiered.expected_deal_value,
        tiered.expected_value,
        tiered.rule_score,
        tiered.rule_grade,
        segments.rfm_segment as segment,
        segments.cluster_id,
        segments.cluster_name,
        actions.recommended_action,
        tiered.top_reasons,
        tiered.top_reasons_text,
        tiered.reason_details,
        tiered.logit,
        nullif(concat_ws(
            '; ',
            tiered.scoring_notes,
            case
                when tiered.tier_basis = 'rule_grade' and tiered.conversion_probability is not null
                    then 'no deal value (no won deal in the lookback): tier from the rule grade'
                when tiered.tier_basis = 'rule_grade'
                    then 'no probability: tier from the rule grade'
            end
        ), '') as scoring_notes,
        {{ leadscore.run_timestamp() }} as scored_at
    from tiered
    left join actions
        on tiered.tier = actions.tier and tiered.rule_grade = actions.rule_grade
    left join segments on tiered.lead_id = segments.lead_id

)

select * from final
