{#- The training spine: one row per (lead_id, snapshot_at) for leads open at snapshot_at.
    Snapshots lie on a grid every snapshot_interval_days counted back from as_of (so the
    scoring date is the grid's next point), at most max_snapshots_per_lead per lead (its
    first open ones) and no older than snapshot_history_days; plus one snapshot
    first_snapshot_delay_hours after creation, so fast converters are represented too.
    Built from lead-level arithmetic: leads × N small numbers, no range join.
    With more than max_training_leads leads created before as_of, only that many take part:
    the first by a hash of lead_id (deterministic and independent of load order; a new lead
    may take the place of one with a larger hash). Every model, test
    metric and monitoring reference downstream reads this sample; scoring never does. -#}
{% set interval = leadscore_var('snapshot_interval_days') %}
{% set max_leads = leadscore_var('max_training_leads') %}
{% set max_per_lead = leadscore_var('max_snapshots_per_lead') %}
{% set history = leadscore_var('snapshot_history_days') %}

with

params as (

    select * from {{ ref('int_as_of_resolved') }}

),

leads as (

    select
        lead_id,
        created_at
    from {{ ref('stg_crm__leads') }}

),

training_leads as (

    select
        lead_id,
        created_at
    from (
        select
            leads.lead_id,
            leads.created_at,
            row_number() over (order by {{ dbt.hash('leads.lead_id') }}, leads.lead_id)
                as hash_rank
        from leads
        cross join params
        where leads.created_at < params.as_of
    ) as ranked
    where {% if max_leads is none %}true{% else %}hash_rank <= {{ max_leads | int }}{% endif %}

),

outcomes as (

    select * from {{ ref('int_lead_outcomes') }}

),

steps as (

    select generated_number - 1 as step
    from ({{ dbt.generate_series(max_per_lead) }}) as numbers

),

lead_grid as (

    -- k_first: the grid index (counted back from as_of) of the lead's first grid point
    -- after creation: the largest k with as_of - k * interval > created_at
    select
        leads.lead_id,
        leads.created_at,
        params.as_of,
        {{ dbt.dateadd('hour', leadscore_var('first_snapshot_delay_hours'), 'leads.created_at') }}
            as first_snapshot_at,
        cast(ceil(
            {{ fractional_days('leads.created_at', 'params.as_of') }} / {{ interval }}
        ) as integer) - 1 as k_first
    from training_leads as leads
    cross join params

),

grid_snapshots as (

    select
        lead_grid.lead_id,
        {{ dbt.dateadd('day', '-1 * (lead_grid.k_first - steps.step) * ' ~ interval,
                       'lead_grid.as_of') }} as snapshot_at,
        'grid' as snapshot_kind
    from lead_grid
    cross join steps
    where
        lead_grid.k_first - steps.step >= 1
        and (lead_grid.k_first - steps.step) * {{ interval }} <= {{ history }}

),

first_snapshots as (

    select
        lead_grid.lead_id,
        lead_grid.first_snapshot_at as snapshot_at,
        'first' as snapshot_kind
    from lead_grid
    where
        lead_grid.first_snapshot_at < lead_grid.as_of
        and lead_grid.first_snapshot_at >= {{ days_before('lead_grid.as_of', history) }}

),

candidates as (

    select * from grid_snapshots
    union all
    select * from first_snapshots

),

final as (

    -- open at snapshot_at: not converted and not disqualified before it
    select
        candidates.lead_id,
        candidates.snapshot_at,
        min(candidates.snapshot_kind) as snapshot_kind
    from candidates
    inner join outcomes on candidates.lead_id = outcomes.lead_id
    where {{ lead_is_open('outcomes', 'candidates.snapshot_at') }}
    group by candidates.lead_id, candidates.snapshot_at

)

select * from final
