{#- One row per lead: when it converted (var conversion_event) and when it was disqualified.
    These dates decide when a lead is open and the training label; they never become
    features. -#}
with

leads as (

    select lead_id from {{ ref('stg_crm__leads') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

status_changes as (

    select * from {{ ref('stg_crm__lead_status_changes') }}

),

opportunity_dates as (

    select
        lead_id,
        min(created_at) as opportunity_at,
        min(case when is_won then closed_at end) as won_at
    from opportunities
    group by lead_id

),

disqualification_dates as (

    select
        lead_id,
        min(changed_at) as disqualified_at
    from status_changes
    where status = 'disqualified'
    group by lead_id

),

final as (

    select
        leads.lead_id,
        opportunity_dates.opportunity_at,
        opportunity_dates.won_at,
        {% if conversion_event() == 'won' %}
            opportunity_dates.won_at
        {% else %}
            opportunity_dates.opportunity_at
        {% endif %} as converted_at,
        disqualification_dates.disqualified_at
    from leads
    left join opportunity_dates on leads.lead_id = opportunity_dates.lead_id
    left join disqualification_dates on leads.lead_id = disqualification_dates.lead_id

)

select * from final
