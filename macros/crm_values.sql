{#- Numbers, booleans and ids as CRM exports write them (docs/inputs.md, "What staging does
    with messy data"). Every macro gives NULL for a value it cannot read; the base models
    flag such a value (has_malformed_*) instead of letting it vanish. -#}


{#- The text of a CRM number, ready for parse_number_text: trimmed, lowercased, currency
    symbols and codes ($, €, £, US$, USD, EUR, ...) removed; NULL when empty or a placeholder
    (var placeholder_values: unknown, not malformed). A column that is already a number is
    written with the decimal separator of var decimal_separator, so it reads back exactly. -#}
{% macro number_text(column) %}
    {%- set text = "lower(trim(cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")))" -%}
    {%- set currency = '[a-z]{0,2}[$€£¥]|usd|eur|gbp|chf|cad|aud|nzd|jpy|sek|nok|dkk|pln|inr' -%}
    case
        when {{ text }} = '' or {{ text }} in {{ leadscore.sql_list(
            leadscore_var('placeholder_values'), 'var placeholder_values') }}
            then null
        {%- if leadscore_var('decimal_separator') != '.' %}
        when not {{ leadscore.is_text_typed(column) }}
            then replace({{ text }}, '.', '{{ leadscore_var("decimal_separator") }}')
        {%- endif %}
        else trim({{ leadscore.regex_replace_all(text, "'" ~ currency ~ "'", "''") }})
    end
{% endmacro %}


{#- Regex pieces of a number in the export's format (var decimal_separator): digits with an
    optional decimal part (and exponent), or digits grouped by thousands with the other
    separator, a space, a no-break space or an apostrophe: 1,000.5 | 1 000,5 | 1'000. -#}
{% macro number_patterns() %}
    {%- set dec = '\\.' if leadscore_var('decimal_separator') == '.' else ',' -%}
    {#- the apostrophe doubled: the pattern goes into a SQL string literal -#}
    {%- set group = "[" ~ (',' if dec == '\\.' else '.') ~ " \\x{00a0}\\x{202f}'']" -%}
    {{ return({
        'decimal': dec,
        'group': group,
        'unsigned': '(?:\\d{1,3}(?:' ~ group ~ '\\d{3})+(?:' ~ dec ~ '\\d+)?|\\d+(?:' ~ dec
            ~ '\\d*)?|' ~ dec ~ '\\d+)',
        'exponent': '(?:e[+-]?\\d+)?',
    }) }}
{% endmacro %}


{#- The number in a number_text; NULL when it is not one. With ranges, an employee range
    (51-200, 51 - 200, 51 to 200) reads as its lower bound and an open one (10,001+) as its
    bound: the one count the CRM vouches for (DECISIONS.md, "Ranges of company size"). -#}
{% macro parse_number_text(text, ranges=false) %}
    {%- set p = leadscore.number_patterns() -%}
    {%- set number = "'^[+-]?" ~ p.unsigned ~ p.exponent ~ "$'" -%}
    case
        when {{ leadscore.regex_matches(text, number) }}
            then {{ leadscore.number_value(text) }}
        {%- if ranges %}
        when {{ leadscore.number_range_bound(text, 2) }}
            >= {{ leadscore.number_range_bound(text, 1) }}
            then {{ leadscore.number_range_bound(text, 1) }}
        when {{ leadscore.regex_matches(text, "'^" ~ p.unsigned ~ "\\s*\\+$'") }}
            then {{ leadscore.number_value(leadscore.regex_replace_all(text, "'\\s*\\+$'", "''")) }}
        {%- endif %}
    end
{% endmacro %}


{#- A number_text that is a range (51-200, lower bound first) or an open range (10,001+). -#}
{% macro is_number_range(text) %}
    coalesce(
        {{ leadscore.number_range_bound(text, 2) }} >= {{ leadscore.number_range_bound(text, 1) }}
        or {{ leadscore.regex_matches(text, "'^" ~ leadscore.number_patterns().unsigned
                                             ~ "\\s*\\+$'") }},
        false
    )
{% endmacro %}


{% macro number_range_pattern() %}
    {%- set n = leadscore.number_patterns().unsigned -%}
    {{ return("'^(" ~ n ~ ")\\s*(?:-|–|to)\\s*(" ~ n ~ ")$'") }}
{% endmacro %}


{#- Bound 1 (lower) or 2 (upper) of a range; NULL when the text is not a range. -#}
{% macro number_range_bound(text, bound) %}
    {{ leadscore.number_value(
        leadscore.regex_extract(text, leadscore.number_range_pattern(), bound)) }}
{% endmacro %}


{#- A text already matched as a number: group separators out, decimal separator to '.'. -#}
{% macro number_value(text) %}
    {%- set p = leadscore.number_patterns() -%}
    {{ leadscore.try_cast(
        "replace(" ~ leadscore.regex_replace_all(text, "'" ~ p.group ~ "'", "''")
        ~ ", '" ~ p.decimal | replace('\\', '') ~ "', '.')",
        leadscore.type_double()) }}
{% endmacro %}


{#- Parses a CRM number from a column (number_text, then parse_number_text). -#}
{% macro parse_crm_number(column, ranges=false) %}
    {{ leadscore.parse_number_text(leadscore.number_text(column), ranges) }}
{% endmacro %}


{#- The text of an is_won value: trimmed, lowercased, runs of spaces, _ and - as one space
    (closed_won = closed-won = closed won); NULL when empty or a placeholder. -#}
{% macro boolean_text(column) %}
    {%- set text = "lower(trim(cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")))" -%}
    case
        when {{ text }} = '' or {{ text }} in {{ leadscore.sql_list(
            leadscore_var('placeholder_values'), 'var placeholder_values') }}
            then null
        else {{ leadscore.regex_replace_all(text, "'[\\s_-]+'", "' '") }}
    end
{% endmacro %}


{#- is_won from a boolean_text: the common spellings and those of vars is_won_true_values /
    is_won_false_values; a number is won when it is 1 (1, 1.0) and lost when 0; NULL
    otherwise (the base model flags it has_malformed_is_won). -#}
{% macro parse_is_won_text(text) %}
    {%- set true_values = ['true', 't', 'yes', 'y', 'won', 'win', 'closed won'] -%}
    {%- set false_values = ['false', 'f', 'no', 'n', 'lost', 'loss', 'closed lost'] -%}
    case
        when {{ text }} in {{ leadscore.sql_list(
            true_values + leadscore.spellings(leadscore_var('is_won_true_values')),
            'var is_won_true_values') }}
            then true
        when {{ text }} in {{ leadscore.sql_list(
            false_values + leadscore.spellings(leadscore_var('is_won_false_values')),
            'var is_won_false_values') }}
            then false
        when {{ leadscore.try_cast(text, leadscore.type_double()) }} = 1 then true
        when {{ leadscore.try_cast(text, leadscore.type_double()) }} = 0 then false
    end
{% endmacro %}


{#- User spellings as boolean_text writes them. -#}
{% macro spellings(values) %}
    {%- set out = [] -%}
    {%- for v in values -%}
        {%- do out.append(modules.re.sub('[\\s_-]+', ' ', v | string | trim | lower)) -%}
    {%- endfor -%}
    {{ return(out) }}
{% endmacro %}


{#- A column whose values are text (a CSV column), not already a number. -#}
{% macro is_text_typed(column) %}
    {{ return(adapter.dispatch('is_text_typed', 'leadscore')(column)) }}
{% endmacro %}

{#- Other warehouses: every column is read as text, so with decimal_separator ',' a typed
    number with a fraction (4900.5) is flagged malformed, never misread: keep '.' there. -#}
{% macro default__is_text_typed(column) %}true{% endmacro %}

{% macro duckdb__is_text_typed(column) %}(typeof({{ column }}) = 'VARCHAR'){% endmacro %}


{#- Every match of `pattern` (a SQL literal) replaced. -#}
{% macro regex_replace_all(text, pattern, replacement) %}
    {{- return(adapter.dispatch('regex_replace_all', 'leadscore')(text, pattern, replacement)) -}}
{% endmacro %}

{% macro default__regex_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}

{% macro duckdb__regex_replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}


{#- Capture group `group` of the first match of `pattern` (a SQL literal); NULL (DuckDB: '')
    without a match. -#}
{% macro regex_extract(text, pattern, group) %}
    {{- return(adapter.dispatch('regex_extract', 'leadscore')(text, pattern, group)) -}}
{% endmacro %}

{% macro default__regex_extract(text, pattern, group) -%}
    regexp_substr({{ text }}, {{ pattern }}, 1, 1, 'e', {{ group }})
{%- endmacro %}

{% macro duckdb__regex_extract(text, pattern, group) -%}
    nullif(regexp_extract({{ text }}, {{ pattern }}, {{ group }}), '')
{%- endmacro %}
