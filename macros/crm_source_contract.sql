{#- The source contract of docs/inputs.md: required columns per raw CRM table. One place, used by
    the on-run-start validation and the docs. -#}
{% macro crm_source_contract() %}
    {{ return({
        'leads': ['lead_id', 'created_at', 'lead_source', 'company_size', 'industry',
                  'country', 'job_title', 'email'],
        'activities': ['activity_id', 'lead_id', 'occurred_at', 'activity_type'],
        'opportunities': ['opportunity_id', 'lead_id', 'created_at', 'closed_at', 'is_won',
                          'amount'],
        'lead_status_changes': ['lead_id', 'status', 'changed_at'],
    }) }}
{% endmacro %}


{#- Contract columns a source may lack (docs/inputs.md: B2C exports have no firmographics), with
    their types. In files mode the registered view adds an absent one as a typed NULL column,
    so every model reads it as unknown; in tables mode the table must have it. -#}
{% macro crm_optional_columns() %}
    {{ return({
        'leads': {
            'company_size': dbt.type_bigint(),
            'industry': dbt.type_string(),
            'country': dbt.type_string(),
            'job_title': dbt.type_string(),
            'email': dbt.type_string(),
        },
    }) }}
{% endmacro %}


{#- on-run-start hook. In files mode, finds $LEADSCORE_RAW_DIR/<table>.parquet or .csv and
    creates a view per table in var crm_schema; in tables mode, expects the tables there.
    Either way it checks the required columns and the custom attribute vars, and stops the
    run with a message that names the problem and the fix. -#}
{% macro register_crm_sources() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set schema = leadscore_var('crm_schema') %}
    {% set mode = leadscore_var('crm_source_mode') %}
    {% set raw_dir = env_var('LEADSCORE_RAW_DIR', 'data/raw') %}
    {% if mode == 'files' %}
        {% do run_query('create schema if not exists ' ~ adapter.quote(schema)) %}
    {% endif %}
    {% for table, required in crm_source_contract().items() %}
        {% if mode == 'files' %}
            {% do leadscore.check_utf8(raw_dir ~ '/' ~ table ~ '.csv') %}
            {% do leadscore.register_raw_file(raw_dir, schema, table, required,
                                              crm_optional_columns().get(table, {})) %}
        {% endif %}
        {% set found = run_query(
            "select lower(column_name) from information_schema.columns "
            ~ "where table_schema = " ~ leadscore.sql_string(schema)
            ~ " and table_name = " ~ leadscore.sql_string(table)
        ).columns[0].values() | list %}
        {% if found | length == 0 %}
            {{ exceptions.raise_compiler_error(
                "source table " ~ schema ~ "." ~ table ~ " not found; create it with columns "
                ~ required | join(', ') ~ " or set var crm_source_mode: files") }}
        {% endif %}
        {% set missing = required | reject('in', found) | list %}
        {% if missing %}
            {{ exceptions.raise_compiler_error(
                "source " ~ table ~ " is missing required column(s) " ~ missing | join(', ')
                ~ " (has: " ~ found | join(', ') ~ "); rename them in your export or map "
                ~ "them in a view. Required: " ~ required | join(', ')) }}
        {% endif %}
        {% if table == 'leads' %}
            {% for attr in leadscore_var('lead_categorical_attributes') + leadscore_var('lead_numeric_attributes') %}
                {% if attr | lower not in found %}
                    {{ exceptions.raise_compiler_error(
                        "custom attribute '" ~ attr ~ "' (vars lead_categorical_attributes / "
                        ~ "lead_numeric_attributes) is not a column of leads (has: "
                        ~ found | join(', ') ~ "); fix the var or add the column") }}
                {% endif %}
            {% endfor %}
        {% endif %}
    {% endfor %}
    {{ return('') }}
{% endmacro %}


{% macro register_raw_file(raw_dir, schema, table, required, optional={}) %}
    {% set base = raw_dir ~ '/' ~ table %}
    {% set what = "env LEADSCORE_RAW_DIR ('" ~ raw_dir ~ "')" %}
    {% set files = run_query(
        "select file from glob(" ~ leadscore.sql_string(base ~ '.parquet', what) ~ ") "
        ~ "union all select file from glob(" ~ leadscore.sql_string(base ~ '.csv', what) ~ ")"
    ).columns[0].values() | list %}
    {% if files | length == 0 %}
        {{ exceptions.raise_compiler_error(
            "source file for " ~ table ~ " not found: expected " ~ base ~ ".parquet or "
            ~ base ~ ".csv with columns " ~ required | join(', ')
            ~ ". Set env LEADSCORE_RAW_DIR to the folder of your export (now '" ~ raw_dir
            ~ "'), or run 'make demo' to generate demo data.") }}
    {% elif files | length > 1 %}
        {{ exceptions.raise_compiler_error(
            "both " ~ base ~ ".parquet and " ~ base ~ ".csv exist; keep one so it is clear "
            ~ "which one is the source") }}
    {% endif %}
    {% set path = leadscore.sql_string(files[0], 'source file') %}
    {% if files[0].endswith('.csv') %}
        {% set reader = "read_csv(" ~ path ~ ", header = true, all_varchar = true)" %}
    {% else %}
        {% set reader = "read_parquet(" ~ path ~ ")" %}
    {% endif %}
    {% set found = run_query('describe select * from ' ~ reader).columns[0].values()
                   | map('lower') | list %}
    {% set added = [] %}
    {% for column, type in optional.items() if column not in found %}
        {% do added.append('cast(null as ' ~ type ~ ') as ' ~ adapter.quote(column)) %}
    {% endfor %}
    {% do run_query('create or replace view '
                    ~ adapter.quote(schema) ~ '.' ~ adapter.quote(table)
                    ~ ' as select *' ~ (', ' ~ added | join(', ') if added else '')
                    ~ ' from ' ~ reader) %}
{% endmacro %}


{#- Stops when a CSV is not UTF-8 (a Latin-1 or UTF-16 export): "leads.csv is not UTF-8 (byte
    0xE9 at line 3, byte 81): re-save it as UTF-8 (Excel: Save As → CSV UTF-8)". Reading it
    would fail later with DuckDB's own advice (options leadscore does not expose). The probe
    reads the file as bytes once (no file, no probe); the position is only looked for when
    it is not UTF-8. -#}
{% macro check_utf8(file) %}
    {% set blob = "read_blob(" ~ leadscore.sql_string(file, 'the raw file path') ~ ")" %}
    {% set valid = run_query("select bool_and(try(decode(content)) is not null) from " ~ blob)
                   .rows[0][0] %}
    {% if valid is none or valid %}{{ return('') }}{% endif %}
    {#- the longest prefix of whole UTF-8 characters, on the hex digits (two per byte) -#}
    {% set prefix = "regexp_extract(hex(content), '^(?:[0-7][0-9A-F]|[C-D][0-9A-F][89AB][0-9A-F]"
        ~ "|E[0-9A-F](?:[89AB][0-9A-F]){2}|F[0-4](?:[89AB][0-9A-F]){3})*')" %}
    {% set row = run_query(
        "with p as (select content, " ~ prefix ~ " as h from " ~ blob ~ ") select "
        ~ "substring(hex(content), length(h) + 1, 2), length(h) // 2 + 1, "
        ~ "1 + length(decode(unhex(h))) - length(replace(decode(unhex(h)), chr(10), '')) "
        ~ "from p"
    ).rows[0] %}
    {{ exceptions.raise_compiler_error(
        file.split('/')[-1] ~ " is not UTF-8 (byte 0x" ~ row[0] ~ " at line " ~ row[2]
        ~ ", byte " ~ row[1] ~ " of " ~ file ~ "): re-save it as UTF-8 "
        ~ "(Excel: Save As → CSV UTF-8)") }}
{% endmacro %}
