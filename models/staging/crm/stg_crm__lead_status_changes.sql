with

base as (

    select * from {{ ref('base_crm__lead_status_changes') }}

),

final as (

    select
        status_change_id,
        lead_id,
        status,
        changed_at
    from base
    where rejection_reason is null

)

select * from final
