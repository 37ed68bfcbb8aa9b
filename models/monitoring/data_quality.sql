{#- The data-quality scorecard of the raw CRM tables: one row per (source_table, column_name,
    check_name), computed on every raw row (value_all) and on the rows of the last
    data_quality_recent_days before as_of (value_recent), with a status from
    seeds/data_quality_thresholds.csv (the most specific row wins: table + column, then table,
    then '*'). Status uses value_recent when the window has rows (a sync that broke last week
    shows now, not diluted by years of history), else value_all. Checks: n_rows,
    rejected_share (any reason) and rejected_share:<reason> (the quarantine),
    null_share per contract column, malformed_share (values that did not parse),
    unknown_value_share (activity types outside the contract), range_share (company sizes
    given as a range, read as its lower bound: info), freshness_days (as_of minus the latest
    timestamp). A table the contract allows to be empty (optional) that is empty is not
    judged: its checks are 'n/a'. data_quality_scores rolls it up per table. -#}
{% set recent_days = leadscore_var('data_quality_recent_days') %}
{% set tables = [
    {'name': 'leads', 'model': 'base_crm__leads', 'ts': 'created_at', 'optional': false,
     'columns': ['lead_id', 'created_at', 'lead_source', 'company_size', 'industry', 'country',
                 'job_title', 'email'],
     'malformed': {'company_size': 'has_malformed_company_size', 'email': 'has_malformed_email'},
     'unknown': {},
     'range': {'company_size': 'has_company_size_range'}},
    {'name': 'activities', 'model': 'base_crm__activities', 'ts': 'occurred_at', 'optional': true,
     'columns': ['activity_id', 'lead_id', 'occurred_at', 'activity_type'],
     'malformed': {},
     'unknown': {'activity_type': "activity_type = 'other'"},
     'range': {}},
    {'name': 'opportunities', 'model': 'base_crm__opportunities', 'ts': 'created_at',
     'optional': true,
     'columns': ['opportunity_id', 'lead_id', 'created_at', 'closed_at', 'is_won', 'amount'],
     'malformed': {'is_won': 'has_malformed_is_won', 'amount': 'has_malformed_amount'},
     'unknown': {},
     'range': {}},
    {'name': 'lead_status_changes', 'model': 'base_crm__lead_status_changes', 'ts': 'changed_at',
     'optional': true,
     'columns': ['lead_id', 'status', 'changed_at'],
     'malformed': {},
     'unknown': {},
     'range': {}},
] %}
{% set reasons = ['null_key', 'null_timestamp', 'unparseable_timestamp', 'future_timestamp',
                  'orphan_lead_id', 'closed_before_created', 'duplicate_key'] %}

with

params as (

    select * from {{ ref('int_as_of_resolved') }}

),

thresholds as (

    select * from {{ ref('data_quality_thresholds') }}

),

{% for table in tables %}
    {{ table.name }}_rows as (

        select
            {{ table.name }}.*,
            coalesce(
                {{ table.name }}.{{ table.ts }}
                >= {{ leadscore.days_before('params.as_of', recent_days) }}
                and {{ table.name }}.{{ table.ts }} < params.as_of,
                false
            ) as is_recent,
            case
                when
                    {{ table.name }}.{{ table.ts }} < params.as_of
                    then {{ table.name }}.{{ table.ts }}
            end as timestamp_before_as_of,
            params.as_of as scored_as_of
        from {{ ref(table.model) }} as {{ table.name }}
        cross join params

    ),

    {%- set share_checks = [('(table)', 'rejected_share', 'rejection_reason is not null')] %}
    {%- for reason in reasons %}
        {%- do share_checks.append(
            ('(table)', 'rejected_share:' ~ reason, "rejection_reason = '" ~ reason ~ "'")) %}
    {%- endfor %}
    {%- for column in table.columns %}
        {%- do share_checks.append((column, 'null_share', column ~ ' is null')) %}
    {%- endfor %}
    {%- for column, flag in table.malformed.items() %}
        {%- do share_checks.append((column, 'malformed_share', flag)) %}
    {%- endfor %}
    {%- for column, condition in table.unknown.items() %}
        {%- do share_checks.append((column, 'unknown_value_share', condition)) %}
    {%- endfor %}
    {%- for column, flag in table.range.items() %}
        {%- do share_checks.append((column, 'range_share', flag)) %}
    {%- endfor %}

    {{ table.name }}_checks as (

        select
            '{{ table.name }}' as source_table,
            '(table)' as column_name,
            'n_rows' as check_name,
            count(*)::double as value_all,
            count(*) filter (where is_recent)::double as value_recent,
            count(*) as n_rows_all,
            count(*) filter (where is_recent) as n_rows_recent,
            {{ 'true' if table.optional else 'false' }} as is_optional
        from {{ table.name }}_rows

        {% for column, check, condition in share_checks %}
            union all

            select
                '{{ table.name }}' as source_table,
                '{{ column }}' as column_name,
                '{{ check }}' as check_name,
                avg(case when {{ condition }} then 1.0 else 0.0 end) as value_all,
                avg(case when {{ condition }} then 1.0 else 0.0 end)
                filter (where is_recent) as value_recent,
                count(*) as n_rows_all,
                count(*) filter (where is_recent) as n_rows_recent,
                {{ 'true' if table.optional else 'false' }} as is_optional
            from {{ table.name }}_rows
        {% endfor %}

        union all

        select
            '{{ table.name }}' as source_table,
            '{{ table.ts }}' as column_name,
            'freshness_days' as check_name,
            {{ leadscore.fractional_days('max(timestamp_before_as_of)', 'max(scored_as_of)') }}
                as value_all,
            null as value_recent,
            count(*) as n_rows_all,
            count(*) filter (where is_recent) as n_rows_recent,
            {{ 'true' if table.optional else 'false' }} as is_optional
        from {{ table.name }}_rows

    ),

{% endfor %}

checks as (

    {% for table in tables %}
        select * from {{ table.name }}_checks
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

matched as (

    select
        checks.*,
        thresholds.watch,
        thresholds.alert,
        row_number() over (
            partition by checks.source_table, checks.column_name, checks.check_name
            order by
                case when thresholds.source_table = '*' then 1 else 0 end,
                case when thresholds.column_name = '*' then 1 else 0 end
        ) as specificity_rank
    from checks
    left join thresholds
        on
            (checks.source_table = thresholds.source_table or thresholds.source_table = '*')
            and (checks.column_name = thresholds.column_name or thresholds.column_name = '*')
            and (
                checks.check_name = thresholds.check_name
                or (
                    thresholds.check_name = 'rejected_share'
                    and checks.check_name like 'rejected_share:%'
                )
            )

),

judged as (

    select
        *,
        case
            when n_rows_recent > 0 and value_recent is not null then value_recent
            else value_all
        end as value_judged
    from matched
    where specificity_rank = 1

),

final as (

    select
        params.as_of,
        judged.source_table,
        judged.column_name,
        judged.check_name,
        judged.value_all,
        judged.value_recent,
        judged.value_judged,
        judged.n_rows_all,
        judged.n_rows_recent,
        judged.watch,
        judged.alert,
        case
            -- an empty optional table (docs/inputs.md: "may be empty") is not applicable
            when judged.n_rows_all = 0 and judged.is_optional then 'n/a'
            when judged.alert is null then 'info'
            when judged.n_rows_all = 0 then 'alert'
            when judged.value_judged is null then 'alert'
            when judged.value_judged >= judged.alert then 'alert'
            when judged.value_judged >= judged.watch then 'watch'
            else 'ok'
        end as status
    from judged
    cross join params

)

select * from final
