{#- Point-in-time helpers: the scoring date, the conversion event, interval arithmetic. -#}

{#- The as_of var as a timestamp literal; none when the var is not set (leadscore_var checks
    its format: YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS', UTC). -#}
{% macro as_of_literal() %}
    {% set text = leadscore_var('as_of') %}
    {% if text is none %}{{ return(none) }}{% endif %}
    {{ return("cast('" ~ text ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}


{#- The conversion event var: opportunity (created) | won (closed won). -#}
{% macro conversion_event() %}
    {{ return(leadscore_var('conversion_event')) }}
{% endmacro %}


{#- timestamp shifted by a number of days / hours (cross-database). -#}
{% macro days_before(timestamp, days) -%}
    {{ dbt.dateadd('day', -1 * days, timestamp) | trim }}
{%- endmacro %}

{% macro days_after(timestamp, days) -%}
    {{ dbt.dateadd('day', days, timestamp) | trim }}
{%- endmacro %}


{#- Fractional days from start to end. -#}
{% macro fractional_days(start, end) -%}
    ({{ dbt.datediff(start, end, 'second') | trim }} / 86400.0)
{%- endmacro %}


{#- LEFT JOIN of the latest row of `relation` (per key) strictly before `bound`: the
    point-in-time join. DuckDB has ASOF JOIN (a sort-merge, no per-row scan); elsewhere a
    correlated max() does the same job. -#}
{% macro asof_left_join(relation, alias, left_key, right_key, right_time, bound) %}
    {{ return(adapter.dispatch('asof_left_join', 'leadscore')(
        relation, alias, left_key, right_key, right_time, bound)) }}
{% endmacro %}

{% macro default__asof_left_join(relation, alias, left_key, right_key, right_time, bound) %}
    left join {{ relation }} as {{ alias }}
        on {{ alias }}.{{ right_key }} = {{ left_key }}
        and {{ alias }}.{{ right_time }} = (
            select max(inner_{{ alias }}.{{ right_time }})
            from {{ relation }} as inner_{{ alias }}
            where inner_{{ alias }}.{{ right_key }} = {{ left_key }}
                and inner_{{ alias }}.{{ right_time }} < {{ bound }}
        )
{% endmacro %}

{% macro duckdb__asof_left_join(relation, alias, left_key, right_key, right_time, bound) %}
    asof left join {{ relation }} as {{ alias }}
        on {{ left_key }} = {{ alias }}.{{ right_key }}
        and {{ bound }} > {{ alias }}.{{ right_time }}
{% endmacro %}


{#- Regular-expression match (RE2 on DuckDB). -#}
{% macro regex_matches(column, pattern_column) %}
    {{ return(adapter.dispatch('regex_matches', 'leadscore')(column, pattern_column)) }}
{% endmacro %}

{% macro default__regex_matches(column, pattern_column) %}
    regexp_like({{ column }}, {{ pattern_column }})
{% endmacro %}

{% macro duckdb__regex_matches(column, pattern_column) %}
    regexp_matches({{ column }}, {{ pattern_column }})
{% endmacro %}


{#- ISO day of week, 1 = Monday .. 7 = Sunday. -#}
{% macro day_of_week(timestamp) %}
    {{ return(adapter.dispatch('day_of_week', 'leadscore')(timestamp)) }}
{% endmacro %}

{% macro default__day_of_week(timestamp) %}
    extract(isodow from {{ timestamp }})
{% endmacro %}

{% macro duckdb__day_of_week(timestamp) %}
    isodow({{ timestamp }})
{% endmacro %}


{#- Whether a lead is open at `t`: not converted and not disqualified before it (its
    int_lead_outcomes row under `outcomes`). Scoring and the training spine both use this. -#}
{% macro lead_is_open(outcomes, t) -%}
    ({{ outcomes }}.converted_at is null or {{ outcomes }}.converted_at >= {{ t }})
    and ({{ outcomes }}.disqualified_at is null or {{ outcomes }}.disqualified_at >= {{ t }})
{%- endmacro %}
