{#- The activity types that get their own count columns (from the vars), in a stable order.
    Sales touches only when var include_sales_touch_features is true. -#}
{% macro counted_activity_types(include_sales=true) %}
    {% set types = leadscore_var('engagement_activity_types') | list %}
    {% if include_sales %}
        {% set types = types + leadscore_var('sales_touch_activity_types') | list %}
    {% endif %}
    {{ return(types) }}
{% endmacro %}


{#- Windows (days) of the frequency features; "all" (all time before T) is always there. -#}
{% macro feature_windows() %}
    {{ return([7, 30, 90]) }}
{% endmacro %}


{#- Every ASOF alias the feature macro joins: the cumulative state at T and at T - w for
    each window w (60 is for the velocity feature: the 30 days before the last 30). -#}
{% macro lookback_days() %}
    {{ return((feature_windows() + [60]) | unique | sort) }}
{% endmacro %}


{#- A running total's growth in the window [T - days, T): the ASOF row just before T minus
    the one just before T - days (aliases at_t and before_<days>d of the feature macro). -#}
{% macro windowed_count(column, days, one_row=false) -%}
    cast(
        coalesce(at_t.{{ column }}, 0) - {{ count_before(column, days, one_row) }}
        as {{ dbt.type_int() }}
    )
{%- endmacro %}


{#- A running count just before T - days, 0 when there is none: the ASOF row of alias
    before_<days>d, or with one_row (activity_state_as_of) at_t's <column>_before_<days>d. -#}
{% macro count_before(column, days, one_row=false) -%}
    {%- if one_row -%}
    coalesce(at_t.{{ column }}_before_{{ days }}d, 0)
    {%- else -%}
    coalesce(before_{{ days }}d.{{ column }}, 0)
    {%- endif -%}
{%- endmacro %}


{#- The condition an activity meets to count in running count `name` (cum_n_<name>): an
    activity type, 'other' (an unknown type), or the categories engagement / sales_touch.
    int_activities_accumulated and activity_state_as_of both count with it. -#}
{% macro counted_activity(name) -%}
    {%- if name in ['engagement', 'sales_touch'] -%}
    activity_category = {{ leadscore.sql_string(name) }}
    {%- else -%}
    activity_type = {{ leadscore.sql_string(name) }}
    {%- endif -%}
{%- endmacro %}


{#- The running counts the features take window differences of (windowed_count): each
    counted activity type and engagement. -#}
{% macro windowed_count_names() %}
    {{ return(counted_activity_types(leadscore_var('include_sales_touch_features')) + ['engagement']) }}
{% endmacro %}


{#- The lookback days each windowed count is needed at: the feature windows, and for
    engagement also 60 (engagement_velocity_30d compares the last 30 days with the 30
    before). -#}
{% macro count_lookbacks(name) %}
    {{ return(lookback_days() if name == 'engagement' else feature_windows()) }}
{% endmacro %}


{#- Each lead's activity totals just before the single date `t` (column as_of of the
    one-row relation `params`): the columns of int_activities_accumulated's row just before
    t, plus each windowed running count just before t - w (cum_n_<name>_before_<w>d). A
    row per lead with any activity before t, from three aggregates of the activities: all
    of them (counts, times, decay), those of the longest window only (the window counts,
    subtracted from the totals), and the distinct engagement days. For a one-date spine
    this equals the ASOF joins of point_in_time_features; the decay weight is anchored at t
    (decay_origin_at = t), which gives the same decayed score up to float rounding. -#}
{% macro activity_state_as_of(activities, params) %}
{%- set half_life = leadscore_var('engagement_half_life_days') -%}
{%- set longest = lookback_days() | max -%}
{%- set include_sales = leadscore_var('include_sales_touch_features') -%}
{#- only the totals the features read (int_activities_accumulated keeps them all) -#}
{%- set total_names = counted_activity_types(include_sales) + ['other', 'engagement']
                      + (['sales_touch'] if include_sales else []) -%}
    with

    bounds as (

        select
            as_of as t,
            {%- for days in lookback_days() %}
            {{ days_before('as_of', days) }} as from_{{ days }}d{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ params }}

    ),

    totals as (

        select
            activities.lead_id,
            {%- for name in total_names %}
            count(case when {{ counted_activity(name) }} then 1 end) as cum_n_{{ name }},
            {%- endfor %}
            sum(
                case
                    when {{ counted_activity('engagement') }}
                        then exp(
                            -ln(2) / {{ half_life }}
                            * {{ fractional_days('activities.occurred_at', 'bounds.t') }}
                        )
                end
            ) as cum_decay_weight,
            max(bounds.t) as decay_origin_at,
            min(case when {{ counted_activity('engagement') }} then activities.occurred_at end)
                as first_engagement_at,
            max(case when {{ counted_activity('engagement') }} then activities.occurred_at end)
                as last_engagement_at,
            {%- if include_sales %}
            max(case when {{ counted_activity('sales_touch') }} then activities.occurred_at end)
                as last_sales_touch_at,
            {%- endif %}
            max(
                case when {{ counted_activity('pricing_page_view') }} then activities.occurred_at end
            )
                as last_pricing_page_view_at,
            max(
                case when {{ counted_activity('demo_request') }} then activities.occurred_at end
            )
                as last_demo_request_at,
            max(activities.occurred_at) as last_activity_at
        from {{ activities }} as activities
        cross join bounds
        where activities.occurred_at < bounds.t
        group by activities.lead_id

    ),

    recent as (

        select
            activities.lead_id,
            {%- for name in windowed_count_names() %}
            {%- set outer = loop %}
            {%- for days in count_lookbacks(name) %}
            count(
                case
                    when {{ counted_activity(name) }} and activities.occurred_at >= bounds.from_{{ days }}d
                        then 1
                end
            ) as n_{{ name }}_last_{{ days }}d{{ ',' if not (outer.last and loop.last) }}
            {%- endfor %}
            {%- endfor %}
        from {{ activities }} as activities
        cross join bounds
        where
            activities.occurred_at < bounds.t
            and activities.occurred_at >= bounds.from_{{ longest }}d
        group by activities.lead_id

    ),

    active_days as (

        select
            lead_id,
            count(*) as cum_active_days
        from (
            select distinct
                activities.lead_id,
                {{ dbt.date_trunc('day', 'activities.occurred_at') }} as active_day
            from {{ activities }} as activities
            cross join bounds
            where activities.occurred_at < bounds.t and {{ counted_activity('engagement') }}
        ) as engagement_days
        group by lead_id

    )

    select
        totals.*,
        coalesce(active_days.cum_active_days, 0) as cum_active_days,
        {%- for name in windowed_count_names() %}
        {%- set outer = loop %}
        {%- for days in count_lookbacks(name) %}
        totals.cum_n_{{ name }} - coalesce(recent.n_{{ name }}_last_{{ days }}d, 0)
            as cum_n_{{ name }}_before_{{ days }}d{{ ',' if not (outer.last and loop.last) }}
        {%- endfor %}
        {%- endfor %}
    from totals
    left join recent on totals.lead_id = recent.lead_id
    left join active_days on totals.lead_id = active_days.lead_id
{% endmacro %}
