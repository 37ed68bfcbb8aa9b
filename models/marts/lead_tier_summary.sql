{#- Per scoring run (as_of, model) and tier, from lead_score_history: how many leads, their
    expected conversions (sum of probabilities) and expected value: the trend a sales
    manager watches. -#}
with

history as (

    select * from {{ ref('lead_score_history') }}

),

final as (

    select
        as_of,
        model_version,
        tier,
        count(*) as n_leads,
        avg(conversion_probability) as mean_probability,
        sum(conversion_probability) as expected_conversions,
        sum(expected_value) as total_expected_value,
        min(score) as min_score,
        max(score) as max_score
    from history
    group by as_of, model_version, tier

)

select * from final
