{#- The 1–100 score: the probability in percent rounded up, kept in 1..100; without a
    probability the rule score rescaled from [rule_score_min, rule_score_max] to 1..100. -#}
{% macro lead_score(probability, rule_score) -%}
    case
        when {{ probability }} is not null
            then least(100, greatest(1, ceil(100 * {{ probability }})))::integer
        else (
            1 + round(
                99.0 * ({{ rule_score }} - {{ leadscore_var('rule_score_min') }})
                / ({{ leadscore_var('rule_score_max') }} - {{ leadscore_var('rule_score_min') }})
            )
        )::integer
    end
{%- endmacro %}
