with

base as (

    select * from {{ ref('base_crm__activities') }}

),

final as (

    select
        activity_id,
        lead_id,
        occurred_at,
        activity_type,
        activity_category,
        activity_type_raw
    from base
    where rejection_reason is null

)

select * from final
