{#- Every raw opportunity row, typed, with the reason it cannot be used (or NULL). is_won and
    amount as CRMs write them (Y/N, closed won, $4,900.00: macros/crm_values.sql); a value
    that is there but cannot be read is NULL and flagged has_malformed_is_won /
    has_malformed_amount. Stops the build when most rows match no lead (orphan_check.sql). -#}
{{ config(post_hook="{{ leadscore.stop_on_orphan_lead_ids('opportunities') }}") }}
with

source as (

    select * from {{ source('crm', 'opportunities') }}

),

leads as (

    select lead_id from {{ ref('stg_crm__leads') }}

),

texts as (

    select
        {{ clean_key('opportunity_id') }} as opportunity_id,
        {{ clean_key('lead_id') }} as lead_id,
        created_at as created_at_source,
        {{ parse_timestamp('created_at') }} as created_at,
        closed_at as closed_at_source,
        {{ parse_timestamp('closed_at') }} as closed_at,
        {{ boolean_text('is_won') }} as is_won_text,
        {{ number_text('amount') }} as amount_text
    from source

),

typed as (

    select
        *,
        {{ parse_is_won_text('is_won_text') }} as is_won,
        {{ parse_number_text('amount_text') }} as amount_raw
    from texts

),

checked as (

    select
        typed.*,
        case
            when typed.opportunity_id is null or typed.lead_id is null then 'null_key'
            when {{ timestamp_problem('typed.created_at_source', 'typed.created_at') }} is not null
                then {{ timestamp_problem('typed.created_at_source', 'typed.created_at') }}
            -- closed_at may be NULL (open), but a value that is there must make sense
            when typed.closed_at_source is not null
                then {{ timestamp_problem('typed.closed_at_source', 'typed.closed_at') }}
        end as timestamp_or_key_problem,
        leads.lead_id is null as is_orphan
    from typed
    left join leads on typed.lead_id = leads.lead_id

),

classified as (

    select
        *,
        coalesce(
            timestamp_or_key_problem,
            case when is_orphan then 'orphan_lead_id' end,
            case when closed_at < created_at then 'closed_before_created' end
        ) as row_problem
    from checked

),

ranked as (

    {{ rank_within_key('classified', ['opportunity_id'], 'created_at, closed_at, lead_id') }}

),

final as (

    select
        opportunity_id,
        lead_id,
        created_at_source,
        created_at,
        closed_at_source,
        closed_at,
        is_won,
        -- a negative amount is a malformed value: unknown, not a number
        case when amount_raw >= 0 then amount_raw end as amount,
        is_won_text is not null and is_won is null as has_malformed_is_won,
        amount_text is not null and coalesce(amount_raw < 0, true) as has_malformed_amount,
        coalesce(
            row_problem,
            case when n_within_key > 1 then 'duplicate_key' end
        ) as rejection_reason
    from ranked

)

select * from final
