{#- post-hook of the child base models (activities, opportunities, lead_status_changes): stops
    the build when more than var max_orphan_share of the table's rows have a lead_id that
    matches no usable lead. Such a share is not dirty data but two tables writing the key
    differently (00042 vs 42, L-7 vs l-7): quarantining them all would leave a green build
    with no activity history and a registry that asks for "more history". The message names
    the table, the share, a pair of ids that almost match and the fix. A post-hook, not a data
    test, because a test can only say "got 1 result", not the pair (DECISIONS.md). -#}
{% macro stop_on_orphan_lead_ids(table) %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set max_share = leadscore_var('max_orphan_share') %}
    {% set counts = run_query(
        "select count(*), count(*) filter (where rejection_reason = 'orphan_lead_id') from "
        ~ this
    ).rows[0] %}
    {% set n_rows, n_orphans = counts[0], counts[1] %}
    {% if n_rows == 0 or n_orphans / n_rows <= max_share %}{{ return('') }}{% endif %}

    {#- the first orphan id whose alphanumerics, without case and leading zeros, equal a lead's -#}
    {% set loose -%}
        ltrim(lower({{ leadscore.regex_replace_all('{id}', "'[^A-Za-z0-9]'", "''") }}), '0')
    {%- endset %}
    {% set pair = run_query(
        "with orphans as (select distinct lead_id from " ~ this
        ~ " where rejection_reason = 'orphan_lead_id'), "
        ~ "leads as (select lead_id from " ~ ref('stg_crm__leads') ~ ") "
        ~ "select orphans.lead_id, leads.lead_id from orphans left join leads on "
        ~ loose | replace('{id}', 'orphans.lead_id') ~ " = "
        ~ loose | replace('{id}', 'leads.lead_id')
        ~ " order by leads.lead_id is null, orphans.lead_id, leads.lead_id limit 1"
    ).rows[0] %}
    {% set child_id, lead_id = pair[0], pair[1] %}
    {% if lead_id is none %}
        {% set example = table ~ ".lead_id '" ~ child_id ~ "' (no lead_id of leads is close)" %}
        {% set fix = "check that " ~ table ~ " and leads come from the same CRM export" %}
    {% else %}
        {% set example = table ~ ".lead_id '" ~ child_id ~ "' vs leads.lead_id '" ~ lead_id
                         ~ "'" %}
        {% if child_id | lower == lead_id | lower %}
            {% set fix = "the ids differ only in case: set var case_insensitive_ids: true" %}
        {% else %}
            {% set fix = "export lead_id in one format in both tables (same padding, prefix "
                         ~ "and type)" %}
        {% endif %}
    {% endif %}
    {{ exceptions.raise_compiler_error(
        table ~ ": " ~ '%.1f' | format(100 * n_orphans / n_rows) ~ " % of its rows ("
        ~ n_orphans ~ " of " ~ n_rows ~ ") have a lead_id that matches no lead (more than var "
        ~ "max_orphan_share " ~ max_share ~ "), e.g. " ~ example ~ ". Fix: " ~ fix
        ~ ", and rebuild (or raise max_orphan_share if these rows really have no lead).") }}
{% endmacro %}
