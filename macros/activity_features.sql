{#- The activity types that get their own count columns (from the vars), in a stable order.
    Sales touches only when var include_sales_touch_features is true. -#}
{% macro counted_activity_types(include_sales=true) %}
    {% set types = var('engagement_activity_types') | list %}
    {% if include_sales %}
        {% set types = types + var('sales_touch_activity_types') | list %}
    {% endif %}
    {{ return(types) }}
{% endmacro %}


{#- Windows (days) of the frequency features; "all" (all time before T) is always there. -#}
{% macro feature_windows() %}
    {{ return([7, 30, 90]) }}
{% endmacro %}


{#- Every ASOF alias the feature macro joins: the cumulative state at T and at T - w for
    each window w (60 is for the velocity feature: the 30 days before the last 30). -#}
{% macro lookback_days() %}
    {{ return((feature_windows() + [60]) | unique | sort) }}
{% endmacro %}


{#- A running total's growth in the window [T - days, T): the ASOF row just before T minus
    the one just before T - days (aliases at_t and before_<days>d of the feature macro). -#}
{% macro windowed_count(column, days) -%}
    cast(
        coalesce(at_t.{{ column }}, 0) - coalesce(before_{{ days }}d.{{ column }}, 0)
        as {{ dbt.type_int() }}
    )
{%- endmacro %}
