{#- RFM of every lead open at as_of: recency, frequency and monetary scores 1-5 (fifths of the
    open leads) and a named segment from the editable rules of seeds/rfm_segments.csv.

    score = 1 + floor(5 x the share of open leads with a strictly worse value), so tied leads
    share a score and the best fifth scores 5. Recency: days_since_last_engagement, fewer is
    better; a lead that never engaged has recency_score 0. Frequency and monetary: the
    lead_features columns named by vars rfm_frequency_column and rfm_monetary_column, more is
    better; a NULL (e.g. unknown company size) has a NULL score. The segment is the rule with
    the lowest priority whose bounds the lead meets (an empty bound matches anything,
    including a NULL score). -#}
{% do leadscore.check_seed_ids('rfm_segments', ['rfm_segment']) %}
{% set score_levels = 5 %}
{% set frequency_column = leadscore_var('rfm_frequency_column') %}
{% set monetary_column = leadscore_var('rfm_monetary_column') %}
{% if execute %}
    {% set available = adapter.get_columns_in_relation(ref('lead_features'))
        | map(attribute='name') | map('lower') | list %}
    {% for var_name, column in [('rfm_frequency_column', frequency_column),
                                ('rfm_monetary_column', monetary_column)] %}
        {% if available and (column | string | lower) not in available %}
            {{ exceptions.raise_compiler_error(
                "var " ~ var_name ~ " is '" ~ column ~ "', not a column of lead_features; "
                ~ "use a numeric column such as n_active_days_all, n_engagement_90d, "
                ~ "company_size or prior_won_amount_domain: set it in dbt_project.yml vars or "
                ~ "with --vars '{" ~ var_name ~ ": ...}'") }}
        {% endif %}
    {% endfor %}
{% endif %}

with

features as (

    select * from {{ ref('lead_features') }}

),

segment_rules as (

    select * from {{ ref('rfm_segments') }}

),

measured as (

    select
        lead_id,
        as_of,
        lead_age_days,
        days_since_last_engagement as recency_days,
        cast({{ frequency_column }} as {{ dbt.type_float() }}) as frequency_value,
        cast({{ monetary_column }} as {{ dbt.type_float() }}) as monetary_value
    from features

),

ranked as (

    select
        *,
        rank() over (
            partition by case when recency_days is null then 1 else 0 end
            order by recency_days desc
        ) as recency_rank,
        count(*) over (
            partition by case when recency_days is null then 1 else 0 end
        ) as recency_peers,
        rank() over (
            partition by case when frequency_value is null then 1 else 0 end
            order by frequency_value asc
        ) as frequency_rank,
        count(*) over (
            partition by case when frequency_value is null then 1 else 0 end
        ) as frequency_peers,
        rank() over (
            partition by case when monetary_value is null then 1 else 0 end
            order by monetary_value asc
        ) as monetary_rank,
        count(*) over (
            partition by case when monetary_value is null then 1 else 0 end
        ) as monetary_peers
    from measured

),

scored as (

    select
        lead_id,
        as_of,
        lead_age_days,
        recency_days,
        frequency_value,
        monetary_value,
        case
            when recency_days is null then 0
            else cast(
                1 + floor({{ score_levels }} * (recency_rank - 1) / (1.0 * recency_peers))
                as {{ dbt.type_int() }}
            )
        end as recency_score,
        case
            when frequency_value is not null
                then cast(
                    1 + floor(
                        {{ score_levels }} * (frequency_rank - 1) / (1.0 * frequency_peers)
                    )
                    as {{ dbt.type_int() }}
                )
        end as frequency_score,
        case
            when monetary_value is not null
                then cast(
                    1 + floor({{ score_levels }} * (monetary_rank - 1) / (1.0 * monetary_peers))
                    as {{ dbt.type_int() }}
                )
        end as monetary_score
    from ranked

),

matched as (

    select
        scored.lead_id,
        segment_rules.rfm_segment,
        segment_rules.description as rfm_segment_description,
        row_number() over (
            partition by scored.lead_id
            order by segment_rules.priority asc
        ) as match_order
    from scored
    inner join segment_rules
        on
            {{ within_optional_bounds('scored.recency_score', 'segment_rules', 'recency_score') }}
            and {{ within_optional_bounds(
                'scored.frequency_score', 'segment_rules', 'frequency_score'
            ) }}
            and {{ within_optional_bounds(
                'scored.monetary_score', 'segment_rules', 'monetary_score'
            ) }}
            and (
                segment_rules.max_lead_age_days is null
                or scored.lead_age_days <= segment_rules.max_lead_age_days
            )

),

final as (

    select
        scored.lead_id,
        scored.as_of,
        scored.recency_days,
        scored.frequency_value,
        scored.monetary_value,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        {{ dbt.concat([
            dbt.safe_cast('scored.recency_score', dbt.type_string()),
            dbt.safe_cast('scored.frequency_score', dbt.type_string()),
            "coalesce(" ~ dbt.safe_cast('scored.monetary_score', dbt.type_string()) ~ ", '-')",
        ]) }} as rfm_code,
        matched.rfm_segment,
        matched.rfm_segment_description
    from scored
    left join matched
        on
            scored.lead_id = matched.lead_id
            and matched.match_order = 1

)

select * from final
