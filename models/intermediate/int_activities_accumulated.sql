{#- The running totals of each lead's activity, one row per (lead_id, occurred_at): how many
    activities of each type, engagement days, the decayed engagement weight and the latest
    times — all up to and including that moment. A feature "as of T" is the row just before
    T, found with one ASOF join, and a window [T - w, T) is the difference of two such rows.
    This is the one scan of the activities; no lead × snapshot × activity join anywhere.
    Only the training spine reads it (scoring aggregates the activities before as_of
    directly), so it holds only the leads of int_snapshot_spine (the training sample). -#}
with

spine_leads as (

    select distinct lead_id from {{ ref('int_snapshot_spine') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}
    where lead_id in (select spine_leads.lead_id from spine_leads)

),

per_moment as (

    select
        lead_id,
        occurred_at,
        {%- for name in counted_activity_types() + ['other', 'engagement', 'sales_touch'] %}
            count(case when {{ counted_activity(name) }} then 1 end) as n_{{ name }},
        {%- endfor %}
        max(case when {{ counted_activity('engagement') }} then 1 else 0 end) as is_engagement
    from activities
    group by lead_id, occurred_at

),

with_day_flags as (

    select
        *,
        -- first engagement moment of its calendar day: counts one active day
        case
            when
                is_engagement = 1
                and row_number() over (
                    partition by lead_id, is_engagement, {{ dbt.date_trunc('day', 'occurred_at') }}
                    order by occurred_at
                ) = 1
                then 1
            else 0
        end as starts_active_day,
        -- the lead's first engagement: the origin of its decay weights (keeps exp() small)
        min(case when is_engagement = 1 then occurred_at end) over (partition by lead_id)
            as decay_origin_at
    from per_moment

),

final as (

    select
        lead_id,
        occurred_at,
        {%- set totals = counted_activity_types() + ['other', 'engagement', 'sales_touch'] %}
        {#- integers, not the 128-bit sums DuckDB would keep: a third of the width -#}
        {%- for activity_type in totals %}
            cast(sum(n_{{ activity_type }}) over lead_history as {{ dbt.type_int() }})
                as cum_n_{{ activity_type }},
        {%- endfor %}
        cast(sum(starts_active_day) over lead_history as {{ dbt.type_int() }}) as cum_active_days,
        sum(
            case
                when is_engagement = 1
                    then n_engagement * exp(
                        ln(2) / {{ leadscore_var('engagement_half_life_days') }}
                        * {{ fractional_days('decay_origin_at', 'occurred_at') }}
                    )
            end
        ) over lead_history as cum_decay_weight,
        decay_origin_at,
        min(case when is_engagement = 1 then occurred_at end) over lead_history
            as first_engagement_at,
        max(case when is_engagement = 1 then occurred_at end) over lead_history
            as last_engagement_at,
        max(case when n_sales_touch > 0 then occurred_at end) over lead_history
            as last_sales_touch_at,
        max(case when n_pricing_page_view > 0 then occurred_at end) over lead_history
            as last_pricing_page_view_at,
        max(case when n_demo_request > 0 then occurred_at end) over lead_history
            as last_demo_request_at,
        max(occurred_at) over lead_history as last_activity_at
    from with_day_flags
    window lead_history as (
        partition by lead_id order by occurred_at rows between unbounded preceding and current row
    )

)

select * from final
