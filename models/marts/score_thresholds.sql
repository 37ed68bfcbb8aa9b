{#- Where to draw the line: for every score threshold s present on the hold-out snapshots of
    holdout_predictions, what contacting the leads scoring >= s would have given:
    precision, recall, F1, leads contacted, conversions (actual and expected = sum of
    probabilities) and value (conversions x value per conversion - contacted x contact_cost).
    is_recommended marks the threshold with the best precision among those with recall >=
    min_recall (ties: the lower threshold, which contacts more leads). -#}
{% set contact_cost = leadscore.number_var('contact_cost', minimum=0) %}
{% set min_recall = leadscore.number_var('min_recall', minimum=0, maximum=1) %}

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
        evaluated_on,
        conversion_probability,
        case when is_converted then 1 else 0 end as converted,
        {{ leadscore.lead_score('conversion_probability', 'rule_score') }} as score
    from predictions

),

by_score as (

    select
        model_version,
        evaluated_on,
        score,
        count(*) as n_rows,
        sum(converted) as n_converted,
        sum(conversion_probability) as expected_converted
    from scored
    group by model_version, evaluated_on, score

),

cumulative as (

    select
        model_version,
        evaluated_on,
        score as threshold_score,
        sum(n_rows) over (order by score desc) as n_contacted,
        sum(n_converted) over (order by score desc) as n_conversions,
        sum(expected_converted) over (order by score desc) as expected_conversions,
        sum(n_rows) over () as n_test_rows,
        sum(n_converted) over () as n_test_conversions
    from by_score

),

metrics as (

    select
        cumulative.*,
        cumulative.n_contacted::double / cumulative.n_test_rows as share_contacted,
        cumulative.n_conversions::double / cumulative.n_contacted as precision_at,
        cumulative.n_conversions::double / nullif(cumulative.n_test_conversions, 0) as recall_at
    from cumulative

),

overall_value as (

    select value_per_conversion
    from deal_values
    where company_size_band = '(all)'

),

with_f1 as (

    select
        metrics.*,
        2 * metrics.precision_at * metrics.recall_at
        / nullif(metrics.precision_at + metrics.recall_at, 0) as f1,
        metrics.n_conversions * overall_value.value_per_conversion
        - metrics.n_contacted * {{ contact_cost }} as realised_value
    from metrics
    cross join overall_value

),

best as (

    select threshold_score
    from with_f1
    where recall_at >= {{ min_recall }}
    order by precision_at desc, threshold_score asc
    limit 1

),

final as (

    select
        with_f1.model_version,
        with_f1.evaluated_on,
        with_f1.threshold_score,
        (with_f1.threshold_score - 1) / 100.0 as probability_above,
        with_f1.n_contacted,
        with_f1.share_contacted,
        with_f1.n_conversions,
        with_f1.expected_conversions,
        with_f1.precision_at as precision,  -- noqa: RF04
        with_f1.recall_at as recall,
        with_f1.f1,
        with_f1.realised_value,
        with_f1.n_test_rows,
        with_f1.n_test_conversions,
        coalesce(with_f1.threshold_score = best.threshold_score, false) as is_recommended
    from with_f1
    left join best on with_f1.threshold_score = best.threshold_score

)

select * from final
