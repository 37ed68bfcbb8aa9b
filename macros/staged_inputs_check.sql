{#- The stops between staging and the spine (pre-hook of int_as_of_resolved, so staging and the
    quarantine stg_crm__rejected_rows are built and can be read). A whole column of
    timestamps that does not parse, an empty leads table or no usable lead would otherwise
    surface as a failing not_null test far downstream; here the run stops with one sentence
    that names the problem and the fix. Rows that fail one by one stay quarantined. -#}

{#- (table, base model, source column, parsed column) of every timestamp of the contract. -#}
{% macro staged_timestamp_columns() %}
    {{ return([
        ('leads', 'base_crm__leads', 'created_at_source', 'created_at'),
        ('activities', 'base_crm__activities', 'occurred_at_source', 'occurred_at'),
        ('opportunities', 'base_crm__opportunities', 'created_at_source', 'created_at'),
        ('opportunities', 'base_crm__opportunities', 'closed_at_source', 'closed_at'),
        ('lead_status_changes', 'base_crm__lead_status_changes', 'changed_at_source',
         'changed_at'),
    ]) }}
{% endmacro %}


{% macro check_staged_inputs() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% do leadscore.check_timestamp_columns() %}
    {% do leadscore.check_usable_leads() %}
    {{ return('') }}
{% endmacro %}


{#- Stops when every non-null value of a timestamp column failed to parse (a table with
    values): "all 3 rows of activities.occurred_at failed to parse, e.g. '01/02/2026 13:00';
    set var timestamp_formats: ['%m/%d/%Y %H:%M']". All such columns in one sentence. -#}
{% macro check_timestamp_columns() %}
    {% set failures = [] %}
    {% set formats = leadscore_var('timestamp_formats') | list %}
    {% for table, model, source_column, parsed_column in leadscore.staged_timestamp_columns() %}
        {% set row = run_query(
            "select count(" ~ source_column ~ "), count(" ~ parsed_column ~ "), "
            ~ "min(cast(" ~ source_column ~ " as " ~ dbt.type_string() ~ ")) "
            ~ "from " ~ ref(model)
        ).rows[0] %}
        {% if row[0] > 0 and row[1] == 0 %}
            {% set rows = 'the 1 row' if row[0] == 1 else 'all ' ~ row[0] ~ ' rows' %}
            {% do failures.append(rows ~ " of " ~ table ~ "." ~ parsed_column
                                  ~ " failed to parse, e.g. '" ~ row[2] ~ "'") %}
            {% set guess = leadscore.timestamp_format_guess(ref(model), source_column) %}
            {% if guess and guess not in formats %}{% do formats.append(guess) %}{% endif %}
        {% endif %}
    {% endfor %}
    {% if failures %}
        {% if formats | length > (leadscore_var('timestamp_formats') | length) %}
            {% set quoted = [] %}
            {% for format in formats %}{% do quoted.append("'" ~ format ~ "'") %}{% endfor %}
            {% set fix = "set var timestamp_formats: [" ~ quoted | join(', ') ~ "]" %}
        {% else %}
            {% set fix = "add their strptime format to var timestamp_formats "
                ~ "(e.g. ['%m/%d/%Y %H:%M']), or export ISO 8601 timestamps" %}
        {% endif %}
        {{ exceptions.raise_compiler_error(failures | join('; ') ~ '; ' ~ fix) }}
    {% endif %}
{% endmacro %}


{#- Stops when leads is empty ("leads has 0 rows in data/raw/leads.parquet") or staging kept
    none of its rows ("no usable lead: all 3 leads were quarantined (reasons: null_key 1,
    future_timestamp 2); see stg_crm__rejected_rows"). -#}
{% macro check_usable_leads() %}
    {% set reasons = run_query(
        "select coalesce(rejection_reason, 'usable'), count(*) from "
        ~ ref('base_crm__leads') ~ " group by 1 order by 2 desc, 1"
    ).rows %}
    {% set counts = {} %}
    {% for reason, n in reasons %}{% do counts.update({reason: n}) %}{% endfor %}
    {% if reasons | length == 0 %}
        {{ exceptions.raise_compiler_error(
            "leads has 0 rows in " ~ leadscore.raw_source_name('leads')
            ~ "; export the leads again (nothing can be scored without leads)") }}
    {% elif 'usable' not in counts %}
        {% set total = counts.values() | sum %}
        {% set listed = [] %}
        {% for reason, n in reasons %}{% do listed.append(reason ~ ' ' ~ n) %}{% endfor %}
        {{ exceptions.raise_compiler_error(
            "no usable lead: all " ~ total ~ " leads were quarantined (reasons: "
            ~ listed | join(', ') ~ "); see stg_crm__rejected_rows") }}
    {% endif %}
{% endmacro %}


{#- Where the raw table comes from, for messages: the file in files mode, else the table. -#}
{% macro raw_source_name(table) %}
    {% if leadscore_var('crm_source_mode') == 'files' %}
        {% set base = env_var('LEADSCORE_RAW_DIR', 'data/raw') ~ '/' ~ table %}
        {% set files = run_query(
            "select file from glob(" ~ leadscore.sql_string(base ~ '.*', 'the raw folder') ~ ") "
            ~ "where file like '%.parquet' or file like '%.csv' order by 1"
        ).columns[0].values() | list %}
        {{ return(files | join(', ') if files else base ~ '.parquet') }}
    {% endif %}
    {{ return('table ' ~ leadscore_var('crm_schema') ~ '.' ~ table) }}
{% endmacro %}


{#- The strptime format that parses most of the (failing) text values of `column`, or none;
    between equally good ones the first of the list wins (US before day-first). -#}
{% macro timestamp_format_guess(relation, column) %}
    {{ return(adapter.dispatch('timestamp_format_guess', 'leadscore')(relation, column)) }}
{% endmacro %}

{% macro default__timestamp_format_guess(relation, column) %}
    {{ return(none) }}
{% endmacro %}

{% macro duckdb__timestamp_format_guess(relation, column) %}
    {% set candidates = [
        '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y %I:%M %p', '%m/%d/%Y',
        '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y',
        '%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M', '%d.%m.%Y',
        '%d-%m-%Y %H:%M:%S', '%d-%m-%Y %H:%M', '%d-%m-%Y',
        '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d',
        '%m/%d/%y %H:%M', '%m/%d/%y', '%d.%m.%y',
    ] %}
    {% set text = 'trim(cast(' ~ column ~ ' as varchar))' %}
    {% set counts = [] %}
    {% for format in candidates %}
        {#- a year before 1900 is a two-digit year read by %Y: not a match -#}
        {% do counts.append(
            "count(*) filter (where try_strptime(" ~ text ~ ", "
            ~ leadscore.timestamp_format_literal(format) ~ ") >= timestamp '1900-01-01')") %}
    {% endfor %}
    {% set row = run_query(
        "select " ~ counts | join(', ') ~ " from " ~ relation ~ " where " ~ column ~ " is not null"
    ).rows[0] %}
    {% set best = namespace(n=0, format=none) %}
    {% for n in row %}
        {% if n > best.n %}
            {% set best.n = n %}
            {% set best.format = candidates[loop.index0] %}
        {% endif %}
    {% endfor %}
    {{ return(best.format) }}
{% endmacro %}
