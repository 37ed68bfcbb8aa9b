{#- THE feature definition. Given the name of a CTE holding (lead_id, snapshot_at), returns
    a select of every model feature of each lead as of snapshot_at, computed only from rows
    strictly before snapshot_at. lead_features (scoring, snapshot_at = as_of) and
    training_snapshots (the training spine) both call this; there is no second copy.

    How: the expressions below read the activity totals just before T (alias at_t) and
    just before T - w for each window (aliases before_<w>d); a window count is the
    difference. Counts are real zeros (no activity is no activity); recency, rates and
    times are NULL when there is nothing to measure. Where those totals come from depends
    on the spine:
    - many dates per lead (training_snapshots, activity_state none): ASOF joins into
      int_activities_accumulated, each lead's running totals at every activity moment;
    - one date for every lead (lead_features): activity_state names a CTE built by
      activity_state_as_of() — hash aggregates of the activities before that date, a row
      per lead — and the account's won deals are its latest row before T by hash join.
      Same totals, no sort-merge join. Every spine row must then have the same T.
    Both read the same column names, so the feature expressions exist once; a test
    demands the two give equal features at the same T (test_point_in_time.py). -#}
{% macro point_in_time_features(spine, time_alias='snapshot_at', activity_state=none) %}
{%- set include_sales = leadscore_var('include_sales_touch_features') -%}
{%- set types = counted_activity_types(include_sales) -%}
{%- set half_life = leadscore_var('engagement_half_life_days') -%}
{%- if half_life is not number or half_life < 1 -%}
    {{ exceptions.raise_compiler_error(
        "var engagement_half_life_days is '" ~ half_life ~ "'; use a number of days >= 1") }}
{%- endif -%}
{%- set t = 'spine.snapshot_at' -%}
{%- set one_row = activity_state is not none -%}
    select
        spine.lead_id,
        spine.snapshot_at as {{ time_alias }},

        -- fit: known at creation
        leads.lead_source,
        leads.company_size,
        leads.company_size_band,
        leads.company_size_log,
        leads.industry,
        leads.country,
        leads.region,
        leads.seniority,
        leads.seniority_level,
        leads.job_function,
        leads.is_corporate_email,
        leads.created_day_of_week,
        leads.created_hour
        {{- lead_attribute_columns('leads.') }},

        -- monetary: company size and the account's won deals before T (running totals over
        -- the CRM's history: listed in var calendar_cumulative_features for feature_drift)
        leads.company_size_band_midpoint,
        cast(coalesce(domain_wins.cum_n_won, 0) as {{ dbt.type_int() }})
            as n_prior_won_deals_domain,
        coalesce(domain_wins.cum_won_amount, 0) as prior_won_amount_domain,

        -- recency and age
        {{ fractional_days('leads.created_at', t) }} as lead_age_days,
        {{ fractional_days('at_t.last_engagement_at', t) }} as days_since_last_engagement,
        {{ fractional_days('at_t.last_pricing_page_view_at', t) }}
            as days_since_last_pricing_page_view,
        {{ fractional_days('at_t.last_demo_request_at', t) }} as days_since_last_demo_request,
        {{ fractional_days('leads.created_at', 'at_t.first_engagement_at') }}
            as days_to_first_engagement,

        -- frequency: per activity type, in each window and all time
        {%- for activity_type in types %}
        {%- for days in feature_windows() %}
        {{ windowed_count('cum_n_' ~ activity_type, days, one_row) }} as n_{{ activity_type }}_{{ days }}d,
        {%- endfor %}
        cast(coalesce(at_t.cum_n_{{ activity_type }}, 0) as {{ dbt.type_int() }})
            as n_{{ activity_type }}_all,
        {%- endfor %}
        {%- for days in feature_windows() %}
        {{ windowed_count('cum_n_engagement', days, one_row) }} as n_engagement_{{ days }}d,
        {%- endfor %}
        cast(coalesce(at_t.cum_n_engagement, 0) as {{ dbt.type_int() }}) as n_engagement_all,
        cast(coalesce(at_t.cum_n_other, 0) as {{ dbt.type_int() }}) as n_other_activity_all,
        cast(coalesce(at_t.cum_active_days, 0) as {{ dbt.type_int() }}) as n_active_days_all,

        -- engagement quality
        at_t.cum_decay_weight * exp(
            -ln(2) / {{ half_life }} * {{ fractional_days('at_t.decay_origin_at', t) }}
        ) as engagement_score_decayed,
        {{ windowed_count('cum_n_engagement', 30, one_row) }} - (
            {{ count_before('cum_n_engagement', 30, one_row) }}
            - {{ count_before('cum_n_engagement', 60, one_row) }}
        ) as engagement_velocity_30d,
        cast(coalesce(at_t.cum_n_email_click, 0) as {{ type_double() }})
            / nullif(at_t.cum_n_email_open, 0) as email_click_through_rate,
        coalesce(at_t.cum_n_demo_request, 0) > 0 as has_requested_demo,
        {{ windowed_count('cum_n_pricing_page_view', 7, one_row) }} > 0 as has_pricing_page_view_7d,
        {%- if include_sales %}
        {{ fractional_days('at_t.last_sales_touch_at', t) }} as days_since_last_sales_touch,
        {%- endif %}

        -- interactions
        leads.seniority_level * coalesce(
            at_t.cum_decay_weight * exp(
                -ln(2) / {{ half_life }} * {{ fractional_days('at_t.decay_origin_at', t) }}
            ),
            0
        ) as seniority_x_engagement,
        case when leads.is_corporate_email then 1 else 0 end
            * {{ windowed_count('cum_n_pricing_page_view', 30, one_row) }} as corporate_x_pricing_views_30d,
        leads.company_size_log * {{ windowed_count('cum_n_engagement', 30, one_row) }}
            as size_x_engagement_30d,

        -- the latest input timestamp behind this row (tests check it is before snapshot_at)
        greatest(
            leads.created_at,
            coalesce(at_t.last_activity_at, leads.created_at),
            coalesce(domain_wins.closed_at, leads.created_at)
        ) as last_input_at

    from {{ spine }} as spine
    inner join {{ ref('int_leads_enriched') }} as leads
        on spine.lead_id = leads.lead_id
    {%- if one_row %}
    {#- one T for every row: each domain's latest running total before it, by hash join #}
    left join (
        select
            ranked.email_domain,
            ranked.closed_at,
            ranked.cum_n_won,
            ranked.cum_won_amount
        from (
            select
                wins.*,
                row_number() over (
                    partition by wins.email_domain order by wins.closed_at desc
                ) as recency_rank
            from {{ ref('int_domain_wins_accumulated') }} as wins
            where wins.closed_at < (select max(one_t.snapshot_at) from {{ spine }} as one_t)
        ) as ranked
        where ranked.recency_rank = 1
    ) as domain_wins on leads.email_domain = domain_wins.email_domain
    left join {{ activity_state }} as at_t on spine.lead_id = at_t.lead_id
    {%- else %}
    {{ asof_left_join(ref('int_domain_wins_accumulated'), 'domain_wins',
                      'leads.email_domain', 'email_domain', 'closed_at', t) }}
    {{ asof_left_join(ref('int_activities_accumulated'), 'at_t',
                      'spine.lead_id', 'lead_id', 'occurred_at', t) }}
    {%- for days in lookback_days() %}
    {{ asof_left_join(ref('int_activities_accumulated'), 'before_' ~ days ~ 'd',
                      'spine.lead_id', 'lead_id', 'occurred_at', days_before(t, days)) }}
    {%- endfor %}
    {%- endif %}
{% endmacro %}
