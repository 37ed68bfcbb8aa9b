{#- Running totals of won deals per corporate email domain, one row per (domain, closed_at):
    the "prior deal value" of the account a lead belongs to. A feature as of T reads the row
    just before T, so only deals closed before T count. -#}
with

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

won as (

    select
        leads.email_domain,
        opportunities.closed_at,
        count(*) as n_won,
        sum(opportunities.amount) as won_amount
    from opportunities
    inner join leads on opportunities.lead_id = leads.lead_id
    where
        opportunities.is_won
        and opportunities.closed_at is not null
        and leads.is_corporate_email
    group by leads.email_domain, opportunities.closed_at

),

final as (

    select
        email_domain,
        closed_at,
        sum(n_won) over domain_history as cum_n_won,
        coalesce(sum(won_amount) over domain_history, 0) as cum_won_amount
    from won
    window domain_history as (
        partition by email_domain order by closed_at
        rows between unbounded preceding and current row
    )

)

select * from final
