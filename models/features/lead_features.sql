{#- Scoring features: one row per lead open at as_of (created before it, not converted and
    not disqualified before it), every feature computed from rows strictly before as_of by
    the same macro that builds training_snapshots. One date for every lead, so the activity
    totals come from one aggregate of the activities before as_of (activity_state) rather
    than ASOF joins into the running totals the training spine needs. -#}
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

outcomes as (

    select * from {{ ref('int_lead_outcomes') }}

),

scoring_spine as (

    select
        leads.lead_id,
        params.as_of as snapshot_at
    from leads
    cross join params
    inner join outcomes on leads.lead_id = outcomes.lead_id
    where
        leads.created_at < params.as_of
        and {{ lead_is_open('outcomes', 'params.as_of') }}

),

spine_activities as (

    select * from {{ ref('stg_crm__activities') }}
    where lead_id in (select scoring_spine.lead_id from scoring_spine)

),

activity_state as (

    {{ activity_state_as_of('spine_activities', 'params') }}

),

final as (

    {{ point_in_time_features('scoring_spine', time_alias='as_of',
                              activity_state='activity_state') }}

)

select * from final
