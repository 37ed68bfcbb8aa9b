{#- Every raw activity row, typed, with the activity type mapped to the contract's values
    (unknown types kept as 'other', never dropped) and the reason it cannot be used; plus the
    events `leadscore serve` logged (macros/realtime_events.sql) whose activity_id the CRM
    export does not have and whose lead it has (the others stay in the log: the CRM row wins,
    and an event of a lead the export lacks joins a later build that has the lead). -#}
{{ config(post_hook="{{ leadscore.stop_on_orphan_lead_ids('activities') }}") }}
{% set engagement_types = sql_list(leadscore_var('engagement_activity_types')) %}
{% set sales_touch_types = sql_list(leadscore_var('sales_touch_activity_types')) %}
with

source as (

    select * from {{ source('crm', 'activities') }}

),

leads as (

    select lead_id from {{ ref('stg_crm__leads') }}

),

realtime as (

    {{ realtime_events() }}

),

crm_typed as (

    select
        {{ clean_key('activity_id') }} as activity_id,
        {{ clean_key('lead_id') }} as lead_id,
        occurred_at as occurred_at_source,
        {{ parse_timestamp('occurred_at') }} as occurred_at,
        lower(trim(cast(activity_type as {{ dbt.type_string() }}))) as activity_type_raw
    from source

),

realtime_typed as (

    select
        {{ clean_key('realtime.activity_id') }} as activity_id,
        {{ clean_key('realtime.lead_id') }} as lead_id,
        realtime.occurred_at as occurred_at_source,
        realtime.occurred_at,
        lower(trim(realtime.activity_type)) as activity_type_raw
    from realtime

),

typed as (

    select * from crm_typed
    union all
    select realtime_typed.*
    from realtime_typed
    inner join leads on realtime_typed.lead_id = leads.lead_id
    where not exists (
        select 1 from crm_typed
        where crm_typed.activity_id = realtime_typed.activity_id
    )

),

mapped as (

    select
        typed.*,
        case
            when
                typed.activity_type_raw in {{ engagement_types }}
                or typed.activity_type_raw in {{ sales_touch_types }}
                then typed.activity_type_raw
            else 'other'
        end as activity_type,
        case
            when typed.activity_type_raw in {{ engagement_types }}
                then 'engagement'
            when typed.activity_type_raw in {{ sales_touch_types }}
                then 'sales_touch'
            else 'other'
        end as activity_category,
        case
            when typed.activity_id is null or typed.lead_id is null then 'null_key'
            else {{ timestamp_problem('typed.occurred_at_source', 'typed.occurred_at') }}
        end as timestamp_or_key_problem,
        leads.lead_id is null as is_orphan
    from typed
    left join leads on typed.lead_id = leads.lead_id

),

checked as (

    select
        *,
        coalesce(
            timestamp_or_key_problem,
            case when is_orphan then 'orphan_lead_id' end
        ) as row_problem
    from mapped

),

ranked as (

    {{ rank_within_key('checked', ['activity_id'], 'occurred_at, lead_id, activity_type_raw') }}

),

final as (

    select
        activity_id,
        lead_id,
        occurred_at_source,
        occurred_at,
        activity_type_raw,
        activity_type,
        activity_category,
        coalesce(
            row_problem,
            case when n_within_key > 1 then 'duplicate_key' end
        ) as rejection_reason
    from ranked

)

select * from final
