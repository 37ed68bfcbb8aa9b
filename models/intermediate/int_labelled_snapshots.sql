{#- The labelled rows model training and evaluation read: every matured training_snapshots
    row of a split (train, valid, test, and purged, which only the refit reads) with its
    training_rule_scores rule_score (NULL when a snapshot has none) and split_sample_rank,
    the row's place in its split in a deterministic hash order: training reads the rows
    with split_sample_rank <= max_rows_per_split, so memory stays bounded on large CRMs
    (the cap is applied by the reader, so a run of model_registry+ with another
    max_rows_per_split needs no rebuild of this view). A view: nothing is stored twice,
    and the window runs only when a model trains. -#}
{{ config(materialized='view') }}

with

snapshots as (

    select * from {{ ref('training_snapshots') }}

),

rule_scores as (

    select * from {{ ref('training_rule_scores') }}

),

labelled as (

    select
        snapshots.*,
        rule_scores.rule_score,
        row_number() over (
            partition by snapshots.split
            order by
                hash(snapshots.lead_id, snapshots.snapshot_at),
                snapshots.lead_id,
                snapshots.snapshot_at
        ) as split_sample_rank
    from snapshots
    left join rule_scores
        on
            snapshots.lead_id = rule_scores.lead_id
            and snapshots.snapshot_at = rule_scores.snapshot_at
    where snapshots.split in ('train', 'valid', 'test', 'purged')

),

final as (

    select * from labelled

)

-- the columns of training_snapshots come from the feature macro
select * from final  -- noqa: AM04
