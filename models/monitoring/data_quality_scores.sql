{#- One row per raw CRM table: the data-quality score (100 minus data_quality_alert_penalty
    per check in alert and data_quality_watch_penalty per check in watch, at least 0), the
    worst status, the checks behind it, rows and freshness. The first place to look when the
    scores of a run look odd. -#}
{% set alert_penalty = leadscore_var('data_quality_alert_penalty') %}
{% set watch_penalty = leadscore_var('data_quality_watch_penalty') %}

with

checks as (

    select * from {{ ref('data_quality') }}

),

final as (

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
        ) as findings
    from checks
    group by as_of, source_table

)

select * from final
