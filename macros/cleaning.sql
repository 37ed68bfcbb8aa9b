{#- Cleaning helpers shared by the staging models. -#}

{#- Trimmed, lowercased category; the placeholder values of var placeholder_values
    ('select', 'unknown', 'n/a', ...) become NULL, because they mean "unknown". -#}
{% macro clean_category(column) %}
    case
        when lower(trim(cast({{ column }} as {{ dbt.type_string() }})))
            in {{ leadscore.sql_list(leadscore_var('placeholder_values'),
                                   'var placeholder_values') }}
            then null
        else lower(trim(cast({{ column }} as {{ dbt.type_string() }})))
    end
{% endmacro %}


{#- An id, the same way in every table so keys match: trimmed, empty becomes NULL, a number
    written as a float (1.0, pandas with NULLs) as the whole number (1); lowercased with var
    case_insensitive_ids. Zero padding is kept (00042 is not 42 in every CRM): a child table
    that pads its ids stops the build (stop_on_orphan_lead_ids) instead. -#}
{% macro clean_key(column) %}
    {%- set text = "nullif(trim(cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")), '')" -%}
    {#- the LIKE first: the regex only runs on the few ids that may be floats -#}
    {%- set key = "case when " ~ text ~ " like '%.%0' then "
        ~ leadscore.regex_replace_all(text, "'^([+-]?[0-9]+)[.]0+$'", "'\\1'")
        ~ " else " ~ text ~ " end" -%}
    {{ 'lower(' ~ key ~ ')' if leadscore_var('case_insensitive_ids') else key }}
{% endmacro %}


{#- Parses a timestamp from a typed or text column into a UTC timestamp without a time zone;
    NULL when it does not parse (staging quarantines it as unparseable_timestamp).
    - a TIMESTAMP (or DATE) column passes through unchanged (no text round trip);
    - a TIMESTAMP WITH TIME ZONE column (Parquet) is converted to UTC;
    - text: ISO 8601 first; a text with an offset, `Z` or a zone name ('...+05:00',
      '...Z', '... UTC') is converted to UTC, a text without one is UTC already (the
      contract); then each strptime format of var timestamp_formats, in order.
    None of this reads the session's TimeZone. Converted offsets are not flagged: a
    well-formed offset loses nothing (DECISIONS.md, "Timestamps"). -#}
{% macro parse_timestamp(column) %}
    {{ return(adapter.dispatch('parse_timestamp', 'leadscore')(column)) }}
{% endmacro %}

{#- Other warehouses: a plain safe cast (offsets and timestamp_formats are DuckDB-only). -#}
{% macro default__parse_timestamp(column) %}
    {{ leadscore.try_cast(column, dbt.type_timestamp()) }}
{% endmacro %}

{% macro duckdb__parse_timestamp(column) %}
    {#- typeof() is a constant per column: DuckDB folds the case to one branch -#}
    {%- set text = 'trim(cast(' ~ column ~ ' as varchar))' -%}
    case
        when typeof({{ column }}) = 'TIMESTAMP WITH TIME ZONE'
            then try_cast({{ column }} as timestamptz) at time zone 'UTC'
        when typeof({{ column }})
            in ('TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'DATE')
            then try_cast({{ column }} as timestamp)
        else coalesce(
            case
                when regexp_matches({{ text }}, '{{ leadscore.timestamp_zone_pattern() }}', 'i')
                    then try_cast(
                        regexp_replace({{ text }}, '\s+([+-]\d\d(:?\d\d)?)$', '\1') as timestamptz
                    ) at time zone 'UTC'
                else try_cast({{ text }} as timestamp)
            end
            {#- a format with %z / %Z gives a TIMESTAMP WITH TIME ZONE: to UTC #}
            {%- for format in leadscore_var('timestamp_formats') %},
            try_strptime({{ text }}, {{ leadscore.timestamp_format_literal(format) }})
            {%- if '%z' in format or '%Z' in format %} at time zone 'UTC'{% endif %}
            {%- endfor %}
        )
    end
{% endmacro %}

{#- A time followed by an offset (+05:00, -0500, +05), Z, UTC/GMT or a zone name
    (America/New_York): such a text is an instant, converted to UTC. -#}
{% macro timestamp_zone_pattern() -%}
    \d:\d\d(:\d\d(\.\d*)?)?\s*(z|utc|gmt|[+-]\d\d(:?\d\d)?|[a-z_]+/[a-z_/+-]+)$
{%- endmacro %}

{#- A strptime format of var timestamp_formats as a SQL string literal (data compiled into
    SQL: through the one quoting macro). -#}
{% macro timestamp_format_literal(format) -%}
    {{ leadscore.sql_string(format, 'var timestamp_formats value') }}
{%- endmacro %}


{#- Parses a number as CRMs write it (macros/crm_values.sql): 1,000 | $4,900.00 | 4.900,00 €
    with var decimal_separator ','; NULL when it does not parse or is a placeholder. -#}
{% macro parse_number(column) %}
    {{ leadscore.parse_crm_number(column) }}
{% endmacro %}


{#- A cast that gives NULL instead of failing. dbt.safe_cast is a plain cast on DuckDB. -#}
{% macro try_cast(expression, type) %}
    {{ return(adapter.dispatch('try_cast', 'leadscore')(expression, type)) }}
{% endmacro %}

{% macro default__try_cast(expression, type) %}
    {{ dbt.safe_cast(expression, type) }}
{% endmacro %}

{% macro duckdb__try_cast(expression, type) %}
    try_cast({{ expression }} as {{ type }})
{% endmacro %}


{#- The run's start time (UTC, no time zone): later timestamps cannot be real. -#}
{% macro run_timestamp() %}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }})
{% endmacro %}


{#- Why a row cannot be used, from its source and parsed timestamp; NULL when fine. -#}
{% macro timestamp_problem(source_column, parsed_column) %}
    case
        when {{ source_column }} is null then 'null_timestamp'
        when {{ parsed_column }} is null then 'unparseable_timestamp'
        when {{ parsed_column }} > {{ leadscore.run_timestamp() }} then 'future_timestamp'
    end
{% endmacro %}


{#- The user's custom lead attributes (vars), lowercased, categorical then numeric. -#}
{% macro lead_attribute_names() %}
    {{ return((leadscore_var('lead_categorical_attributes') + leadscore_var('lead_numeric_attributes'))
              | map('lower') | list) }}
{% endmacro %}


{#- ", attr_a, attr_b" for the custom attributes (empty when there are none). -#}
{% macro lead_attribute_columns(prefix='') %}
    {%- for attr in leadscore.lead_attribute_names() %},
        {{ prefix }}{{ adapter.quote(attr) }}
    {%- endfor %}
{% endmacro %}


{#- A double-precision float (dbt.type_float() is a 4-byte float on DuckDB). -#}
{% macro type_double() %}
    {{ return(adapter.dispatch('type_double', 'leadscore')()) }}
{% endmacro %}

{% macro default__type_double() %}double precision{% endmacro %}

{% macro duckdb__type_double() %}double{% endmacro %}

{% macro spark__type_double() %}double{% endmacro %}


{#- Whole calendar days from start to end (NULL when either is NULL). -#}
{% macro days_between(start, end) -%}
    {{ dbt.datediff(start, end, 'day') | trim }}
{%- endmacro %}


{#- Selects every row of `relation` (a CTE name) with n_within_key: its rank among the usable
    rows (row_problem is null) sharing its key, by `order_by`; 1 for the kept copy. Only
    keys that really repeat go through the window (a hash aggregate finds them first): a
    window over every key of a 20M-row table is the expensive way to learn they are unique. -#}
{% macro rank_within_key(relation, key_columns, order_by) %}
    {%- set keys = key_columns | join(', ') -%}
    select
        {{ relation }}.*,
        1 as n_within_key
    from {{ relation }}
    where row_problem is not null
        or ({{ keys }}) not in (
            select {{ keys }} from {{ relation }}
            where row_problem is null
            group by {{ keys }}
            having count(*) > 1
        )
    union all
    select
        {{ relation }}.*,
        row_number() over (partition by {{ keys }} order by {{ order_by }}) as n_within_key
    from {{ relation }}
    where row_problem is null
        and ({{ keys }}) in (
            select {{ keys }} from {{ relation }}
            where row_problem is null
            group by {{ keys }}
            having count(*) > 1
        )
{% endmacro %}
