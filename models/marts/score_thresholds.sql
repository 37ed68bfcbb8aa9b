{#- Where to draw the line, chosen on one hold-out and reported on another. Grain: one row per
    score threshold s (every score present on either split of holdout_predictions), with
    what contacting the snapshots scoring >= s gave on each split side by side: the plain
    columns (precision, recall, f1, n_contacted, ... — the names BI reads) are the TEST
    figures, the valid_ columns the VALID ones. Value = conversions x value per conversion -
    contacted x contact_cost.
    is_recommended is chosen on valid only: among the scores present on valid, the best
    valid precision with valid recall >= min_recall (ties: the lower threshold, which
    contacts more leads); its test figures beside it are what to expect, not selected on. -#}
{% set contact_cost = leadscore_var('contact_cost') %}
{% set min_recall = leadscore_var('min_recall') %}

with

predictions as (

    select * from {{ ref('holdout_predictions') }}

),

deal_values as (

    select * from {{ ref('int_deal_values') }}

),

scored as (

    select
        model_version,
        evaluated_split,
        evaluated_on,
        conversion_probability,
        case when is_converted then 1 else 0 end as converted,
        {{ leadscore.lead_score('conversion_probability', 'rule_score') }} as score
    from predictions

),

splits as (

    select
        evaluated_split,
        min(model_version) as model_version,
        min(evaluated_on) as evaluated_on,
        count(*) as n_rows,
        cast(sum(converted) as {{ dbt.type_bigint() }}) as n_converted,
        count(conversion_probability) > 0 as has_probability
    from scored
    group by evaluated_split

),

thresholds as (

    select distinct score as threshold_score
    from scored

),

by_score as (

    select
        evaluated_split,
        score,
        count(*) as n_rows,
        sum(converted) as n_converted,
        sum(conversion_probability) as expected_converted
    from scored
    group by evaluated_split, score

),

-- every threshold on every split, so a score seen on one split only still has the other's
-- figures (the rows at or above it)
cumulative as (

    select
        splits.evaluated_split,
        splits.model_version,
        splits.evaluated_on,
        thresholds.threshold_score,
        splits.n_rows as n_split_rows,
        splits.n_converted as n_split_conversions,
        coalesce(by_score.n_rows, 0) > 0 as is_score_on_split,
        cast(sum(coalesce(by_score.n_rows, 0)) over (
            partition by splits.evaluated_split order by thresholds.threshold_score desc
        ) as {{ dbt.type_bigint() }}) as n_contacted,
        cast(sum(coalesce(by_score.n_converted, 0)) over (
            partition by splits.evaluated_split order by thresholds.threshold_score desc
        ) as {{ dbt.type_bigint() }}) as n_conversions,
        case
            when splits.has_probability
                then sum(coalesce(by_score.expected_converted, 0)) over (
                    partition by splits.evaluated_split order by thresholds.threshold_score desc
                )
        end as expected_conversions
    from splits
    cross join thresholds
    left join by_score
        on
            splits.evaluated_split = by_score.evaluated_split
            and thresholds.threshold_score = by_score.score

),

overall_value as (

    select value_per_conversion
    from deal_values
    where company_size_band = '(all)'

),

metrics as (

    select
        cumulative.*,
        cumulative.n_contacted::double / cumulative.n_split_rows as share_contacted,
        cumulative.n_conversions::double / nullif(cumulative.n_contacted, 0) as precision_at,
        cumulative.n_conversions::double
        / nullif(cumulative.n_split_conversions, 0) as recall_at,
        cumulative.n_conversions * overall_value.value_per_conversion
        - cumulative.n_contacted * {{ contact_cost }} as realised_value
    from cumulative
    cross join overall_value

),

with_f1 as (

    select
        metrics.*,
        2 * metrics.precision_at * metrics.recall_at
        / nullif(metrics.precision_at + metrics.recall_at, 0) as f1
    from metrics

),

valid as (

    select * from with_f1
    where evaluated_split = 'valid'

),

test as (

    select * from with_f1
    where evaluated_split = 'test'

),

best as (

    select threshold_score
    from valid
    where is_score_on_split and recall_at >= {{ min_recall }}
    order by precision_at desc, threshold_score asc
    limit 1

),

final as (

    select
        coalesce(test.model_version, valid.model_version) as model_version,
        test.evaluated_on,
        thresholds.threshold_score,
        (thresholds.threshold_score - 1) / 100.0 as probability_above,
        test.n_contacted,
        test.share_contacted,
        test.n_conversions,
        test.expected_conversions,
        test.precision_at as precision,  -- noqa: RF04
        test.recall_at as recall,
        test.f1,
        test.realised_value,
        test.n_split_rows as n_test_rows,
        test.n_split_conversions as n_test_conversions,
        valid.evaluated_on as valid_evaluated_on,
        valid.n_contacted as valid_n_contacted,
        valid.share_contacted as valid_share_contacted,
        valid.n_conversions as valid_n_conversions,
        valid.expected_conversions as valid_expected_conversions,
        valid.precision_at as valid_precision,
        valid.recall_at as valid_recall,
        valid.f1 as valid_f1,
        valid.realised_value as valid_realised_value,
        valid.n_split_rows as n_valid_rows,
        valid.n_split_conversions as n_valid_conversions,
        best.threshold_score is not null as is_recommended
    from thresholds
    left join test on thresholds.threshold_score = test.threshold_score
    left join valid on thresholds.threshold_score = valid.threshold_score
    left join best on thresholds.threshold_score = best.threshold_score

)

select * from final
