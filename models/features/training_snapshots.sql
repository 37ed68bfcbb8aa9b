{#- Training examples: one row per (lead_id, snapshot_at) of the snapshot spine, with the
    same features as lead_features (same macro), the label and a purged, lead-disjoint
    chronological split. is_converted = the conversion event happens in [snapshot_at,
    snapshot_at + window); only matured snapshots (snapshot_at + window <= as_of) are
    labelled, the others have split 'unlabelled' and a NULL label. Outcomes after as_of are
    never read, so a backfill at an old as_of trains only on what was known then.

    Splits (DECISIONS.md "Purged, lead-disjoint splits"): a lead belongs to the split of
    its first snapshot (lead_first_snapshot_at), so all its rows sit in one split. Cuts, on
    the first snapshots of the matured leads: test = the last test share of the leads
    (1 - train_fraction - valid_fraction); an embargo of one conversion window before it;
    valid = the valid share (valid_fraction / (train_fraction + valid_fraction)) of the
    leads before the embargo; another embargo; train = the rest. A row of a train (valid)
    lead is kept only when its label window ends by the first snapshot of valid (test):
    snapshot_at + window <= valid_from (test_from). Rows that fail this, and leads whose
    first snapshot falls inside an embargo, get split 'purged': labelled and matured, used
    for the final refit (which sees every matured row) but never to fit, tune, choose or
    judge a model across a split. -#}
{% set window = leadscore_var('conversion_window_days') %}
{% set train_fraction = leadscore_var('train_fraction') %}
{% set valid_fraction = leadscore_var('valid_fraction') %}
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

lead_firsts as (

    select
        labelled.*,
        min(labelled.snapshot_at) over (partition by labelled.lead_id) as lead_first_snapshot_at
    from labelled

),

matured_leads as (

    select distinct
        lead_id,
        lead_first_snapshot_at
    from lead_firsts
    where is_matured

),

test_cut as (

    select
        percentile_disc({{ train_fraction + valid_fraction }}) within group (
            order by lead_first_snapshot_at
        ) as test_from
    from matured_leads

),

valid_cut as (

    select
        test_cut.test_from,
        percentile_disc({{ train_fraction / (train_fraction + valid_fraction) }}) within group (
            order by matured_leads.lead_first_snapshot_at
        ) as valid_from
    from matured_leads
    cross join test_cut
    where
        matured_leads.lead_first_snapshot_at < {{ days_before('test_cut.test_from', window) }}
    group by test_cut.test_from

),

split_cutoffs as (

    -- no lead before the test embargo: valid_from stays NULL, every earlier lead is purged
    select
        test_cut.test_from,
        valid_cut.valid_from
    from test_cut
    left join valid_cut on test_cut.test_from = valid_cut.test_from

),

final as (

    select
        lead_firsts.*,
        case
            when not lead_firsts.is_matured then 'unlabelled'
            when lead_firsts.lead_first_snapshot_at >= split_cutoffs.test_from then 'test'
            when
                lead_firsts.lead_first_snapshot_at >= split_cutoffs.valid_from
                and {{ days_after('lead_firsts.snapshot_at', window) }} <= split_cutoffs.test_from
                then 'valid'
            when
                lead_firsts.lead_first_snapshot_at < split_cutoffs.valid_from
                and {{ days_after('lead_firsts.snapshot_at', window) }}
                <= split_cutoffs.valid_from
                then 'train'
            else 'purged'
        end as split
    from lead_firsts
    cross join split_cutoffs

)

select * from final
