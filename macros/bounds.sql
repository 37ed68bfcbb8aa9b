{#- `value` lies within the optional bounds `<bounds>.min_<name>` and `<bounds>.max_<name>` of a
    seed row (a NULL bound does not bound): the range test of a seed-driven rule. -#}
{% macro within_optional_bounds(value, bounds, name) -%}
    (
        ({{ bounds }}.min_{{ name }} is null or {{ value }} >= {{ bounds }}.min_{{ name }})
        and ({{ bounds }}.max_{{ name }} is null or {{ value }} <= {{ bounds }}.max_{{ name }})
    )
{%- endmacro %}
