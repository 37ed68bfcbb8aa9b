{#- One row per lead: when it reached each stage of the funnel, where it stands now (as of the
    latest data), and the days between stages. Describes history; never a model feature. -#}
with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

status_changes as (

    select * from {{ ref('stg_crm__lead_status_changes') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

activity_milestones as (

    select
        lead_id,
        min(case when activity_category = 'engagement' then occurred_at end)
            as first_engagement_at,
        min(case when activity_category = 'sales_touch' then occurred_at end)
            as first_sales_touch_at
    from activities
    group by lead_id

),

status_milestones as (

    select
        lead_id,
        min(case when status = 'mql' then changed_at end) as mql_at,
        min(case when status = 'sql' then changed_at end) as sql_at,
        min(case when status = 'disqualified' then changed_at end) as disqualified_at
    from status_changes
    group by lead_id

),

opportunity_milestones as (

    select
        lead_id,
        min(created_at) as opportunity_at,
        min(case when is_won then closed_at end) as won_at,
        min(case when not is_won then closed_at end) as lost_at,
        count(*) as n_opportunities
    from opportunities
    group by lead_id

),

joined as (

    select
        leads.lead_id,
        leads.lead_source,
        leads.created_at,
        activity_milestones.first_engagement_at,
        status_milestones.mql_at,
        status_milestones.sql_at,
        activity_milestones.first_sales_touch_at,
        opportunity_milestones.opportunity_at,
        opportunity_milestones.won_at,
        opportunity_milestones.lost_at,
        status_milestones.disqualified_at,
        coalesce(opportunity_milestones.n_opportunities, 0) as n_opportunities
    from leads
    left join activity_milestones on leads.lead_id = activity_milestones.lead_id
    left join status_milestones on leads.lead_id = status_milestones.lead_id
    left join opportunity_milestones on leads.lead_id = opportunity_milestones.lead_id

),

final as (

    select
        *,
        case
            when won_at is not null then 'won'
            when opportunity_at is not null and lost_at is null then 'opportunity'
            when lost_at is not null then 'lost'
            when disqualified_at is not null then 'disqualified'
            when sql_at is not null then 'sql'
            when mql_at is not null then 'mql'
            when first_engagement_at is not null then 'engaged'
            else 'new'
        end as current_stage,
        {{ days_between('created_at', 'first_engagement_at') }}
            as days_to_first_engagement,
        {{ days_between('created_at', 'mql_at') }} as days_to_mql,
        {{ days_between('created_at', 'sql_at') }} as days_to_sql,
        {{ days_between('mql_at', 'sql_at') }} as days_mql_to_sql,
        {{ days_between('created_at', 'opportunity_at') }} as days_to_opportunity,
        {{ days_between('opportunity_at', 'won_at') }} as days_opportunity_to_won
    from joined

)

select * from final
