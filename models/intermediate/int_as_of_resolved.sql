{#- One row: the scoring date (var as_of, or the midnight after the latest event in the
    data) and the latest event itself. Every point-in-time model reads as_of from here.
    Its pre-hook stops the run before the spine when staging left nothing to score: a whole
    timestamp column that does not parse, an empty leads table, no usable lead
    (macros/staged_inputs_check.sql). -#}
{{ config(pre_hook="{{ leadscore.check_staged_inputs() }}") }}
-- depends_on: {{ ref('base_crm__leads') }}, {{ ref('base_crm__activities') }}
-- depends_on: {{ ref('base_crm__opportunities') }}, {{ ref('base_crm__lead_status_changes') }}
-- depends_on: {{ ref('stg_crm__rejected_rows') }}
with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

status_changes as (

    select * from {{ ref('stg_crm__lead_status_changes') }}

),

event_times as (

    select max(created_at) as event_at from leads
    union all
    select max(occurred_at) from activities
    union all
    select max(created_at) from opportunities
    union all
    select max(closed_at) from opportunities
    union all
    select max(changed_at) from status_changes

),

latest as (

    select
        max(event_at) as latest_event_at,
        (select min(leads.created_at) from leads) as first_lead_created_at
    from event_times

),

final as (

    select
        {% if as_of_literal() %}
            {{ as_of_literal() }} as as_of,
            false as is_default_as_of,
        {% else %}
            {{ dbt.dateadd('day', 1, dbt.date_trunc('day', 'latest_event_at')) }} as as_of,
            true as is_default_as_of,
        {% endif %}
        latest_event_at,
        first_lead_created_at
    from latest

)

select * from final
