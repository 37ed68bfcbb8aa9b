with

base as (

    select * from {{ ref('base_crm__leads') }}

),

final as (

    select
        lead_id,
        created_at,
        lead_source,
        company_size,
        industry,
        country,
        job_title,
        email,
        has_malformed_company_size,
        has_company_size_range,
        has_malformed_email
        {{- lead_attribute_columns() }}
    from base
    where rejection_reason is null

)

select * from final
