{#- Every raw lead row, typed and cleaned, with the reason it cannot be used (or NULL).
    stg_crm__leads keeps the usable rows; stg_crm__rejected_rows keeps the others. A
    company_size that is there but not a positive count (abc, 0, -4) is NULL and flagged
    has_malformed_company_size; numbers as CRMs write them: macros/crm_values.sql. -#}
with

source as (

    select * from {{ source('crm', 'leads') }}

),

typed as (

    select
        {{ clean_key('lead_id') }} as lead_id,
        created_at as created_at_source,
        {{ parse_timestamp('created_at') }} as created_at,
        {{ clean_category('lead_source') }} as lead_source,
        {{ number_text('company_size') }} as company_size_text,
        {{ clean_category('industry') }} as industry,
        {{ clean_category('country') }} as country,
        {{ clean_category('job_title') }} as job_title,
        lower({{ clean_key('email') }}) as email
    {%- for attr in leadscore_var('lead_categorical_attributes') %},
        {{ clean_category(adapter.quote(attr)) }} as {{ adapter.quote(attr | lower) }}
        {%- endfor %}
    {%- for attr in leadscore_var('lead_numeric_attributes') %},
        {{ parse_number(adapter.quote(attr)) }} as {{ adapter.quote(attr | lower) }}
        {%- endfor %}
    from source

),

parsed as (

    select
        *,
        -- an employee range (51-200, 10,001+) is read as its lower bound, and flagged
        {{ parse_number_text('company_size_text', ranges=true) }} as company_size_raw,
        {{ is_number_range('company_size_text') }} as has_company_size_range
    from typed

),

checked as (

    select
        *,
        case
            when lead_id is null then 'null_key'
            else {{ timestamp_problem('created_at_source', 'created_at') }}
        end as row_problem
    from parsed

),

ranked as (

    {{ rank_within_key('checked', ['lead_id'], 'created_at, email, lead_source') }}

),

final as (

    select
        lead_id,
        created_at_source,
        created_at,
        lead_source,
        -- a zero or negative head count is a malformed value: unknown, not a number
        case when company_size_raw > 0 then company_size_raw end as company_size,
        industry,
        country,
        job_title,
        email,
        -- there but not a count: text that does not parse (abc), zero or negative
        company_size_text is not null and coalesce(company_size_raw <= 0, true)
            as has_malformed_company_size,
        has_company_size_range,
        email is not null and email not like '%_@_%' as has_malformed_email,
        coalesce(
            row_problem,
            case when n_within_key > 1 then 'duplicate_key' end
        ) as rejection_reason
        {{- lead_attribute_columns() }}
    from ranked

)

select * from final
