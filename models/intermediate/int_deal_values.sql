{#- What one conversion is worth, per company-size band, as of as_of: the mean amount of the
    won opportunities closed in the deal_value_lookback_days before as_of, times the win
    rate of the opportunities closed then when the conversion event is an opportunity (an
    opportunity is worth its chance of being won). Bands with fewer than
    min_won_deals_per_band won deals use the overall value; var expected_deal_value, when
    set, replaces every learned value. One row per band plus band '(all)'. -#}
{% set override = leadscore_var('expected_deal_value') %}
{% set lookback = leadscore_var('deal_value_lookback_days') %}
{% set min_won = leadscore_var('min_won_deals_per_band') %}

with

params as (

    select * from {{ ref('int_as_of_resolved') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

leads as (

    select * from {{ ref('int_leads_enriched') }}

),

size_bands as (

    select * from {{ ref('company_size_bands') }}

),

closed as (

    select
        coalesce(leads.company_size_band, '(unknown)') as company_size_band,
        opportunities.is_won,
        opportunities.amount
    from opportunities
    inner join leads on opportunities.lead_id = leads.lead_id
    cross join params
    where
        opportunities.closed_at < params.as_of
        and opportunities.closed_at >= {{ leadscore.days_before('params.as_of', lookback) }}
        and opportunities.is_won is not null

),

per_band as (

    select
        company_size_band,
        count(*) as n_closed_deals,
        count(*) filter (where is_won) as n_won_deals,
        avg(amount) filter (where is_won) as mean_won_amount
    from closed
    group by company_size_band

    union all

    select
        '(all)' as company_size_band,
        count(*) as n_closed_deals,
        count(*) filter (where is_won) as n_won_deals,
        avg(amount) filter (where is_won) as mean_won_amount
    from closed

),

bands as (

    select company_size_band from size_bands
    union
    select '(unknown)'
    union
    select '(all)'

),

learned as (

    select
        bands.company_size_band,
        coalesce(per_band.n_closed_deals, 0) as n_closed_deals,
        coalesce(per_band.n_won_deals, 0) as n_won_deals,
        per_band.mean_won_amount,
        per_band.n_won_deals::double / nullif(per_band.n_closed_deals, 0) as win_rate,
        per_band.mean_won_amount
        {% if leadscore.conversion_event() == 'opportunity' %}
            * per_band.n_won_deals / nullif(per_band.n_closed_deals, 0)
        {% endif %} as band_value
    from bands
    left join per_band on bands.company_size_band = per_band.company_size_band

),

overall as (

    select band_value
    from learned
    where company_size_band = '(all)'

),

final as (

    select
        learned.company_size_band,
        learned.n_closed_deals,
        learned.n_won_deals,
        learned.mean_won_amount,
        learned.win_rate,
        {% if override is not none %}
            {{ override }}::double as value_per_conversion,
            'var expected_deal_value' as value_source
        {% else %}
            case
                when learned.n_won_deals >= {{ min_won }} then learned.band_value
                else overall.band_value
            end as value_per_conversion,
            case
                when learned.n_won_deals >= {{ min_won }} and learned.band_value is not null
                    then 'won deals of the band'
                when overall.band_value is not null then 'won deals of all bands'
                else 'none: no won deal in the lookback; set var expected_deal_value'
            end as value_source
        {% endif %}
    from learned
    cross join overall

)

select * from final
