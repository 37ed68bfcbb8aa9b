{#- No label window of one split reaches the next split: the last snapshot_at + window of train
    is at most the first snapshot_at of valid, and likewise valid before test. -#}
{% set window = leadscore_var('conversion_window_days') %}

with

bounds as (

    select
        split,
        min(snapshot_at) as first_snapshot_at,
        max({{ days_after('snapshot_at', window) }}) as last_label_end
    from {{ ref('training_snapshots') }}
    where split in ('train', 'valid', 'test')
    group by split

),

pairs as (

    select
        earlier.split as earlier_split,
        later.split as later_split,
        earlier.last_label_end,
        later.first_snapshot_at
    from bounds as earlier
    inner join bounds as later
        on
            (earlier.split = 'train' and later.split = 'valid')
            or (earlier.split = 'valid' and later.split = 'test')
            or (earlier.split = 'train' and later.split = 'test')

)

select * from pairs
where last_label_end > first_snapshot_at
