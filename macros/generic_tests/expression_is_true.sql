{#- Fails for every row where the expression is not true (restrict rows with the test's
    standard `where` config). -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
