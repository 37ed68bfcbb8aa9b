{#- The events `leadscore serve` logged (leadscore/serve/events_log.py):
    $LEADSCORE_EXPORT_DIR/events/events-YYYY-MM-DD.jsonl, one JSON object per line with
    activity_id, lead_id, activity_type, occurred_at (ISO 8601, UTC). A select of those four
    columns (occurred_at a timestamp), or of no rows when var read_realtime_events is false
    or no file exists yet (looked up when the model runs: read_json fails on a glob that
    matches nothing). base_crm__activities adds them to the CRM's activities. -#}
{% macro realtime_events() %}
    {{ return(adapter.dispatch('realtime_events', 'leadscore')()) }}
{% endmacro %}

{% macro default__realtime_events() %}
    {{ leadscore.no_realtime_events() }}
{% endmacro %}

{% macro duckdb__realtime_events() %}
    {%- set pattern = env_var('LEADSCORE_EXPORT_DIR', 'exports') ~ '/events/events-*.jsonl' -%}
    {%- set n_files = 0 -%}
    {%- if execute and leadscore_var('read_realtime_events') -%}
        {%- set found = run_query(
            'select count(*) from glob(' ~ leadscore.sql_string(pattern) ~ ')') -%}
        {%- set n_files = found.columns[0].values()[0] -%}
    {%- endif -%}
    {%- if n_files > 0 %}
    select
        activity_id,
        lead_id,
        activity_type,
        occurred_at
    from read_json(
        {{ leadscore.sql_string(pattern) }},
        format = 'newline_delimited',
        columns = {
            activity_id: 'VARCHAR', lead_id: 'VARCHAR', activity_type: 'VARCHAR',
            occurred_at: 'TIMESTAMP', received_at: 'TIMESTAMP'
        }
    )
    {%- else %}
    {{ leadscore.no_realtime_events() }}
    {%- endif %}
{% endmacro %}

{% macro no_realtime_events() %}
    select
        cast(null as {{ dbt.type_string() }}) as activity_id,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        cast(null as {{ dbt.type_string() }}) as activity_type,
        cast(null as {{ dbt.type_timestamp() }}) as occurred_at
    where 1 = 0
{% endmacro %}
