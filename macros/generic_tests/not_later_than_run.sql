{#- Fails for every row whose timestamp column is later than the start of the run. -#}
{% test not_later_than_run(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} > {{ leadscore.run_timestamp() }}

{% endtest %}
