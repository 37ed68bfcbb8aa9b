{#- What reaches SQL from an input (a seed cell, a var, an env var, a file name) goes through
    these macros and nothing else (docs/rules.md "What reaches SQL"):
    - text compiled as a SQL literal: sql_string / sql_list (quotes doubled; tab, newline and
      carriage return are kept inside the literal, any other control character stops the
      build - DECISIONS.md "Control characters in SQL literals");
    - ids of seed rows (rule_id, grade, rfm_segment, tier, recommended_action): checked
      against safe_id_pattern, the only data that may appear in a SQL comment;
    - column and schema names from vars: checked by leadscore_var (kind name / names), then
      written with adapter.quote. -#}


{#- The SQL string literal of `value`: '...' with each ' doubled. NULL (none) gives null.
    `what` names the value in the error (e.g. "var placeholder_values"). Raises on a control
    character other than tab, newline and carriage return (never a legitimate part of a value,
    and NUL ends a string in some drivers). -#}
{% macro sql_string(value, what='a value compiled into SQL') %}
    {% if value is none %}{{ return('null') }}{% endif %}
    {% set text = value | string %}
    {% set problem = leadscore.sql_string_problem(text) %}
    {% if problem %}
        {{ exceptions.raise_compiler_error(what ~ " " ~ problem) }}
    {% endif %}
    {{ return("'" ~ text | replace("'", "''") ~ "'") }}
{% endmacro %}


{#- Why `text` cannot become a SQL literal ("'a\x00b' contains the control character ...;
    remove it"), or none when it can. For callers that collect every problem first. -#}
{% macro sql_string_problem(text) %}
    {% set bad = modules.re.search('[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]', text | string) %}
    {% if not bad %}{{ return(none) }}{% endif %}
    {{ return(("%r" | format(text | string)) ~ " contains the control character "
              ~ ("%r" | format(bad.group(0))) ~ "; remove it (tab, newline and carriage "
              ~ "return are kept as data, other control characters are refused)") }}
{% endmacro %}


{#- A SQL list literal of text values, each through sql_string: ('a', 'b'). An empty list
    gives (null), which matches nothing in an `in`. -#}
{% macro sql_list(values, what='a list value compiled into SQL') %}
    {% set items = [] %}
    {% for v in values %}
        {% do items.append(leadscore.sql_string(v, what)) %}
    {% endfor %}
    {{ return('(' ~ (items | join(', ') if items else 'null') ~ ')') }}
{% endmacro %}


{#- The ids of seed rows: a letter, digit or _ first, then letters, digits, _ . or -. -#}
{% macro safe_id_pattern() %}{{ return('[A-Za-z0-9_][A-Za-z0-9_.-]*') }}{% endmacro %}

{% macro is_safe_id(value) %}
    {{ return(value is string
              and modules.re.fullmatch(leadscore.safe_id_pattern(), value) is not none) }}
{% endmacro %}


{#- The message for a seed cell that is not a safe id: the seed, the row, the column, the
    value (as a Python literal, so a carriage return or quote is visible) and the fix. -#}
{% macro safe_id_error(seed_name, row_number, column, value) %}
    {{ return("seeds/" ~ seed_name ~ ".csv row " ~ row_number ~ ": " ~ column ~ " "
              ~ ("%r" | format(value)) ~ " is not a valid id; use letters, digits and _ . - "
              ~ "only (starting with a letter, digit or _), e.g. "
              ~ (modules.re.sub('[^A-Za-z0-9_.-]+', '_', value) | trim('_.-') or 'my_id')) }}
{% endmacro %}


{#- `value` when it is a safe id (for the few places an id is written into SQL outside a
    literal, such as a comment); stops the build otherwise. -#}
{% macro safe_id(value, what) %}
    {% if not leadscore.is_safe_id(value) %}
        {{ exceptions.raise_compiler_error(
            what ~ " " ~ ("%r" | format(value)) ~ " is not a valid id (letters, digits, _ . -)") }}
    {% endif %}
    {{ return(value) }}
{% endmacro %}


{#- Checks that the `columns` of every row of seed `seed_name` are safe ids; one compiler error
    listing every bad cell (row, column, value, fix). Nothing to check (and no query) while the
    seed is not loaded yet (parsing, lint). Called by the models that read the seed. -#}
{% macro check_seed_ids(seed_name, columns) %}
    {% set rows = leadscore.rule_seed_rows(seed_name, columns) %}
    {% if rows is none %}{{ return('') }}{% endif %}
    {% set errors = [] %}
    {% for row in rows %}
        {% set row_number = loop.index %}
        {% for column in columns if not leadscore.is_safe_id(row[column]) %}
            {% do errors.append(leadscore.safe_id_error(seed_name, row_number, column,
                                                        row[column])) %}
        {% endfor %}
    {% endfor %}
    {% if errors %}
        {{ exceptions.raise_compiler_error(
            "invalid ids in seeds/" ~ seed_name ~ ".csv; fix and rerun dbt build:\n  - "
            ~ errors | join('\n  - ')) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}
