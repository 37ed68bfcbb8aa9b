{#- Funnel counts per lead source and created month: how many leads reached each stage. -#}
with

lifecycle as (

    select * from {{ ref('fct_lead_lifecycle') }}

),

grouped as (

    select
        coalesce(lead_source, '(unknown)') as lead_source,
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as created_month,
        count(*) as n_leads,
        count(first_engagement_at) as n_engaged,
        count(mql_at) as n_mql,
        count(sql_at) as n_sql,
        count(opportunity_at) as n_opportunity,
        count(won_at) as n_won,
        count(disqualified_at) as n_disqualified
    from lifecycle
    group by 1, 2

),

final as (

    select
        *,
        cast(n_mql as {{ type_double() }}) / n_leads as mql_rate,
        cast(n_opportunity as {{ type_double() }}) / n_leads as opportunity_rate,
        cast(n_won as {{ type_double() }}) / n_leads as won_rate
    from grouped

)

select * from final
