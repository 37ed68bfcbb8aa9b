{#- A lead's labelled rows sit in one split: no lead in two of train / valid / test. -#}
select lead_id
from {{ ref('training_snapshots') }}
where split in ('train', 'valid', 'test')
group by lead_id
having count(distinct split) > 1
