{#- Validated number vars of the scoring layer: the error names the var, the bad value and
    the fix. `whole`: a whole number; `nullable`: null is allowed (returned as none). -#}
{% macro number_var(name, minimum=none, maximum=none, whole=false, nullable=false) %}
    {% set value = var(name) %}
    {% if value is none and nullable %}{{ return(none) }}{% endif %}
    {% set bounds = [] %}
    {% if minimum is not none %}{% do bounds.append(">= " ~ minimum) %}{% endif %}
    {% if maximum is not none %}{% do bounds.append("<= " ~ maximum) %}{% endif %}
    {% set expected = ("a whole number" if whole else "a number")
        ~ (" " ~ bounds | join(" and ") if bounds else "")
        ~ (" or null" if nullable else "") %}
    {% set ok = value is number and value is not boolean
        and (not whole or value == value | int)
        and (minimum is none or value >= minimum)
        and (maximum is none or value <= maximum) %}
    {% if not ok %}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " is '" ~ value ~ "'; it must be " ~ expected
            ~ ": set it in dbt_project.yml vars or with --vars '{" ~ name ~ ": ...}'") }}
    {% endif %}
    {{ return(value) }}
{% endmacro %}


{#- The 1–100 score: the probability in percent rounded up, kept in 1..100; without a
    probability the rule score rescaled from [rule_score_min, rule_score_max] to 1..100. -#}
{% macro lead_score(probability, rule_score) -%}
    case
        when {{ probability }} is not null
            then least(100, greatest(1, ceil(100 * {{ probability }})))::integer
        else (
            1 + round(
                99.0 * ({{ rule_score }} - {{ var('rule_score_min') }})
                / ({{ var('rule_score_max') }} - {{ var('rule_score_min') }})
            )
        )::integer
    end
{%- endmacro %}
