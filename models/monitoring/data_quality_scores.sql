{#- One row per raw CRM table: the data-quality score (100 minus data_quality_alert_penalty
    per check in alert and data_quality_watch_penalty per check in watch, at least 0), the
    worst status, the checks behind it, rows and freshness. An empty table the contract allows
    to be empty (every check 'n/a') has no score, status 'n/a' and says so in findings. The
    first place to look when the scores of a run look odd. -#}
{% set alert_penalty = leadscore_var('data_quality_alert_penalty') %}
{% set watch_penalty = leadscore_var('data_quality_watch_penalty') %}

with

checks as (

    select * from {{ ref('data_quality') }}

),

scored as (

    select
        as_of,
        source_table,
        max(case when check_name = 'n_rows' then value_all end)::bigint as n_rows,
        max(case when check_name = 'n_rows' then value_recent end)::bigint as n_rows_recent,
        max(case when check_name = 'rejected_share' then value_all end) as rejected_share,
        max(case when check_name = 'freshness_days' then value_all end) as freshness_days,
        count(*) filter (where status = 'alert') as n_alerts,
        count(*) filter (where status = 'watch') as n_watch,
        greatest(
            0,
            100
            - {{ alert_penalty }} * count(*) filter (where status = 'alert')
            - {{ watch_penalty }} * count(*) filter (where status = 'watch')
        ) as quality_score,
        case
            when count(*) filter (where status = 'alert') > 0 then 'alert'
            when count(*) filter (where status = 'watch') > 0 then 'watch'
            else 'ok'
        end as status,
        string_agg(
            case
                when status in ('alert', 'watch')
                    then
                        status || ': ' || column_name || ' ' || check_name || ' = '
                        || cast(round(value_judged, 4) as {{ dbt.type_string() }})
            end,
            '; '
        ) as findings,
        count(*) filter (where status = 'n/a') = count(*) as is_not_applicable
    from checks
    group by as_of, source_table

),

final as (

    select
        as_of,
        source_table,
        n_rows,
        n_rows_recent,
        rejected_share,
        freshness_days,
        n_alerts,
        n_watch,
        case when not is_not_applicable then quality_score end as quality_score,
        case when is_not_applicable then 'n/a' else status end as status,
        case
            when is_not_applicable
                then
                    'not applicable: ' || source_table || ' is empty, which the source '
                    || 'contract allows (docs/inputs.md)'
            else findings
        end as findings
    from scored

)

select * from final
