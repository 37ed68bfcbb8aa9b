{#- How the scores of each run are spread, from lead_score_history: per (as_of,
    model_version) the score deciles, tier shares, mean probability and expected
    conversions. A sudden shift between runs without a model change points at the data. -#}
with

history as (

    select * from {{ ref('lead_score_history') }}

),

final as (

    select
        as_of,
        model_version,
        min(model_type) as model_type,
        count(*) as n_leads,
        avg(conversion_probability) as mean_probability,
        sum(conversion_probability) as expected_conversions,
        avg(score) as mean_score,
        {% for decile in range(1, 10) %}
            percentile_disc({{ decile / 10 }}) within group (order by score)
                as score_p{{ decile }}0,
        {% endfor %}
        avg(case when tier = 'hot' then 1.0 else 0.0 end) as hot_share,
        avg(case when tier = 'warm' then 1.0 else 0.0 end) as warm_share,
        avg(case when tier = 'cold' then 1.0 else 0.0 end) as cold_share
    from history
    group by as_of, model_version

)

select * from final
