{#- Training examples: one row per (lead_id, snapshot_at) of the snapshot spine, with the
    same features as lead_features (same macro), the label and a chronological split.
    is_converted = the conversion event happens in [snapshot_at, snapshot_at + window);
    only matured snapshots (snapshot_at + window <= as_of) are labelled, the others have
    split 'unlabelled' and a NULL label. Outcomes after as_of are never read, so a backfill
    at an old as_of trains only on what was known then. -#}
{% set window = positive_int_var('conversion_window_days') %}
{% set train_fraction = var('train_fraction') %}
{% set valid_fraction = var('valid_fraction') %}
{% if not (train_fraction > 0 and valid_fraction > 0 and train_fraction + valid_fraction < 1) %}
    {{ exceptions.raise_compiler_error(
        "vars train_fraction (" ~ train_fraction ~ ") and valid_fraction (" ~ valid_fraction
        ~ ") must be > 0 and sum to less than 1; the test split gets the rest") }}
{% endif %}

with

spine as (

    select * from {{ ref('int_snapshot_spine') }}

),

params as (

    select * from {{ ref('int_as_of_resolved') }}

),

outcomes as (

    select * from {{ ref('int_lead_outcomes') }}

),

features as (

    {{ point_in_time_features('spine') }}

),

labelled as (

    select
        features.*,
        spine.snapshot_kind,
        {{ days_after('features.snapshot_at', window) }} <= params.as_of as is_matured,
        case
            when {{ days_after('features.snapshot_at', window) }} <= params.as_of
                then coalesce(
                    outcomes.converted_at >= features.snapshot_at
                    and outcomes.converted_at < {{ days_after('features.snapshot_at', window) }},
                    false
                )
        end as is_converted
    from features
    inner join spine
        on
            features.lead_id = spine.lead_id
            and features.snapshot_at = spine.snapshot_at
    inner join outcomes on features.lead_id = outcomes.lead_id
    cross join params

),

split_cutoffs as (

    select
        percentile_disc({{ train_fraction }}) within group (order by snapshot_at)
            as valid_from,
        percentile_disc({{ train_fraction + valid_fraction }}) within group (
            order by snapshot_at
        ) as test_from
    from labelled
    where is_matured

),

final as (

    select
        labelled.*,
        case
            when not labelled.is_matured then 'unlabelled'
            when labelled.snapshot_at < split_cutoffs.valid_from then 'train'
            when labelled.snapshot_at < split_cutoffs.test_from then 'valid'
            else 'test'
        end as split
    from labelled
    cross join split_cutoffs

)

select * from final
