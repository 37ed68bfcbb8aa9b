with

base as (

    select * from {{ ref('base_crm__opportunities') }}

),

final as (

    select
        opportunity_id,
        lead_id,
        created_at,
        closed_at,
        is_won,
        amount,
        has_malformed_is_won,
        has_malformed_amount
    from base
    where rejection_reason is null

)

select * from final
