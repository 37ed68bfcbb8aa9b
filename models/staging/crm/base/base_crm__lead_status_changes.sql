{#- Every raw status change, typed, with the reason it cannot be used (or NULL). A status
    change has no id of its own: (lead_id, status, changed_at) is its key. -#}
{{ config(post_hook="{{ leadscore.stop_on_orphan_lead_ids('lead_status_changes') }}") }}
with

source as (

    select * from {{ source('crm', 'lead_status_changes') }}

),

leads as (

    select lead_id from {{ ref('stg_crm__leads') }}

),

typed as (

    select
        {{ clean_key('lead_id') }} as lead_id,
        {{ clean_category('status') }} as status,
        changed_at as changed_at_source,
        {{ parse_timestamp('changed_at') }} as changed_at
    from source

),

checked as (

    select
        typed.*,
        coalesce(
            case when typed.lead_id is null or typed.status is null then 'null_key' end,
            {{ timestamp_problem('typed.changed_at_source', 'typed.changed_at') }},
            case when leads.lead_id is null then 'orphan_lead_id' end
        ) as row_problem
    from typed
    left join leads on typed.lead_id = leads.lead_id

),

ranked as (

    {{ rank_within_key('checked', ['lead_id', 'status', 'changed_at'], 'changed_at_source') }}

),

final as (

    select
        {{ dbt.concat([
            "lead_id", "'|'", "status", "'|'",
            "cast(changed_at as " ~ dbt.type_string() ~ ")",
        ]) }} as status_change_id,
        lead_id,
        status,
        changed_at_source,
        changed_at,
        coalesce(
            row_problem,
            case when n_within_key > 1 then 'duplicate_key' end
        ) as rejection_reason
    from ranked

)

select * from final
