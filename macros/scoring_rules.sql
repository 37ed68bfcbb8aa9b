{#- Rule-based scoring: the rules of seeds/scoring_rules.csv and the grades of
    seeds/rule_grades.csv, read at compile time, validated against the real columns of the
    scored feature table, and turned into SQL. lead_rule_scores, lead_rule_score_breakdown
    and training_rule_scores all call these macros; the match expression of a rule is
    generated in one place (rule_match). -#}

{#- Columns of the feature tables that describe the row, not the lead: no rule may use them
    (is_converted and split are the training label and split - a rule on them would leak). -#}
{% macro rule_non_feature_columns() %}
    {{ return(['lead_id', 'as_of', 'snapshot_at', 'last_input_at', 'snapshot_kind',
               'is_matured', 'is_converted', 'split']) }}
{% endmacro %}


{#- Operators by the kind of feature they apply to. -#}
{% macro rule_operators() %}
    {{ return({
        'number': ['=', '!=', '<', '<=', '>', '>=', 'in', 'not_in', 'between', 'is_null'],
        'text': ['=', '!=', 'in', 'not_in', 'is_null'],
        'boolean': ['=', '!=', 'is_null'],
    }) }}
{% endmacro %}


{#- The separator of list values (in, not_in) and of the bounds of between. -#}
{% macro rule_value_separator() %}{{ return('|') }}{% endmacro %}


{#- number | text | boolean for a column's database type; none when rules cannot use it. -#}
{% macro rule_feature_kind(dtype) %}
    {% set t = dtype | lower %}
    {% if modules.re.match('^(bool|boolean)$', t) %}
        {{ return('boolean') }}
    {% elif modules.re.match(
        '^(u?(tiny|small|big|huge)?int(eger)?\d*|int\d+|long|short|byte|double( precision)?|'
        ~ 'float\d*|real|decimal|numeric|number)\\b', t) %}
        {{ return('number') }}
    {% elif modules.re.match('^(varchar|text|string|char|character|nvarchar|bpchar)\\b', t) %}
        {{ return('text') }}
    {% endif %}
    {{ return(none) }}
{% endmacro %}


{#- Text of a seed cell: trimmed; NULL and empty give ''. -#}
{% macro rule_cell(value) %}
    {{ return('' if value is none else (value | string | trim)) }}
{% endmacro %}


{#- Whether a text is a (decimal or scientific) number / a whole number. -#}
{% macro rule_is_number(text) %}
    {{ return(modules.re.fullmatch('[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?', text)
              is not none) }}
{% endmacro %}

{% macro rule_is_whole_number(text) %}
    {{ return(modules.re.fullmatch('[+-]?\d+', text) is not none) }}
{% endmacro %}


{#- Whether `relation` exists. When it does not and the model is about to be executed (run,
    build, show), stops with `fix`; otherwise (parsing, `dbt compile` before the first build,
    sqlfluff on an empty in-memory database) the caller renders a placeholder. -#}
{% macro rule_relation_exists(relation, fix) %}
    {% if load_relation(relation) is not none %}{{ return(true) }}{% endif %}
    {% if flags.WHICH in ['run', 'build', 'retry', 'show'] %}
        {{ exceptions.raise_compiler_error(relation ~ " does not exist; " ~ fix) }}
    {% endif %}
    {{ return(false) }}
{% endmacro %}


{#- Loads a seed's rows as a list of dicts of trimmed text; none when the seed table does not
    exist yet (see rule_relation_exists). -#}
{% macro rule_seed_rows(seed_name, columns) %}
    {% if not execute %}{{ return(none) }}{% endif %}
    {% set seed_relation = ref(seed_name) %}
    {% if not leadscore.rule_relation_exists(
        seed_relation,
        "run 'dbt seed --select " ~ seed_name ~ "' or 'dbt build' (which loads the seeds first)"
    ) %}
        {{ return(none) }}
    {% endif %}
    {% set result = run_query(
        "select " ~ columns | join(', ') ~ " from " ~ seed_relation
    ) %}
    {% set rows = [] %}
    {% for row in result.rows %}
        {% set cells = {} %}
        {% for column in columns %}
            {% do cells.update({column: leadscore.rule_cell(row[column])}) %}
        {% endfor %}
        {% do rows.append(cells) %}
    {% endfor %}
    {{ return(rows) }}
{% endmacro %}


{#- Validates one rule against the feature columns ({name: kind}); returns the parsed rule
    and appends a message per problem to `errors` (each naming the rule_id and the fix). -#}
{% macro rule_parse(row, kinds, errors) %}
    {% set sep = leadscore.rule_value_separator() %}
    {% set rule_id = row['rule_id'] %}
    {% set where = "scoring_rules.csv rule '" ~ rule_id ~ "': " %}
    {% set dimension = row['dimension'] | lower %}
    {% set feature = row['feature'] | lower %}
    {% set operator = row['operator'] | lower %}
    {% set raw_value = row['value'] %}
    {% set values = [] %}
    {% set kind = kinds.get(feature) %}

    {% if dimension not in ['fit', 'engagement'] %}
        {% do errors.append(where ~ "unknown dimension '" ~ row['dimension']
                            ~ "'; use fit (who the lead is) or engagement (what it did)") %}
    {% endif %}

    {% if not leadscore.rule_is_whole_number(row['points']) %}
        {% do errors.append(where ~ "points '" ~ row['points'] ~ "' is not a whole number; "
                            ~ "use e.g. 10 or -5") %}
    {% endif %}

    {% set all_operators = leadscore.rule_operators()['number'] %}
    {% if operator not in all_operators %}
        {% do errors.append(where ~ "unknown operator '" ~ row['operator'] ~ "'; use one of "
                            ~ all_operators | join(' ')) %}
    {% endif %}

    {% if feature in leadscore.rule_non_feature_columns() %}
        {% do errors.append(where ~ "'" ~ feature ~ "' is not a feature (it describes the row "
                            ~ "or the label); use a feature column of lead_features") %}
        {% set kind = none %}
    {% elif feature not in kinds %}
        {% set stem = feature.split('_')[0] %}
        {% set similar = [] %}
        {% for name in kinds.keys() | sort
               if stem | length > 1 and stem in name
               and name not in leadscore.rule_non_feature_columns() %}
            {% do similar.append(name) %}
        {% endfor %}
        {% do errors.append(where ~ "unknown feature '" ~ row['feature'] ~ "'; use a column "
                            ~ "of lead_features (documented in models/features/_features.yml)"
                            ~ (", e.g. " ~ similar[:8] | join(', ') if similar else "")) %}
    {% elif kind is none %}
        {% do errors.append(where ~ "feature '" ~ feature ~ "' has a type rules cannot compare;"
                            ~ " use a number, text or boolean feature") %}
    {% elif operator in all_operators and operator not in leadscore.rule_operators()[kind] %}
        {% do errors.append(where ~ "operator '" ~ operator ~ "' does not apply to the " ~ kind
                            ~ " feature '" ~ feature ~ "'; use one of "
                            ~ leadscore.rule_operators()[kind] | join(' ')) %}
    {% elif operator == 'is_null' %}
        {% if raw_value | lower not in ['', 'true', 'false'] %}
            {% do errors.append(where ~ "is_null takes an empty value or true (the feature is "
                                ~ "NULL) / false (it is not NULL), not '" ~ raw_value ~ "'") %}
        {% endif %}
    {% elif operator in ['in', 'not_in', 'between'] %}
        {% set parts = raw_value.split(sep) | map('trim') | list %}
        {% if raw_value == '' or '' in parts %}
            {% do errors.append(where ~ operator ~ " needs a '" ~ sep ~ "'-separated list of "
                                ~ "values without empty items, e.g. "
                                ~ ("10" ~ sep ~ "50" if kind == 'number' else "a" ~ sep ~ "b")
                                ~ " (got '" ~ raw_value ~ "')") %}
        {% elif operator == 'between' and parts | length != 2 %}
            {% do errors.append(where ~ "between needs two bounds 'low" ~ sep ~ "high' (both "
                                ~ "included), e.g. 51" ~ sep ~ "200 (got '" ~ raw_value ~ "')") %}
        {% else %}
            {% do values.extend(parts) %}
        {% endif %}
    {% elif raw_value == '' %}
        {% do errors.append(where ~ "operator " ~ operator ~ " needs a value") %}
    {% else %}
        {% do values.append(raw_value) %}
    {% endif %}

    {#- free text becomes SQL literals: no control characters but tab, newline, return -#}
    {% for column in ['value', 'description'] if leadscore.sql_string_problem(row[column]) %}
        {% do errors.append(where ~ column ~ " " ~ leadscore.sql_string_problem(row[column])) %}
        {% do values.clear() %}
    {% endfor %}

    {#- values must parse for the feature's type -#}
    {% set literals = [] %}
    {% for value in values %}
        {% if kind == 'number' %}
            {% if leadscore.rule_is_number(value) %}
                {% do literals.append(value) %}
            {% else %}
                {% do errors.append(where ~ "value '" ~ value ~ "' is not a number, but feature '"
                                    ~ feature ~ "' is numeric; use e.g. 10 or 2.5") %}
            {% endif %}
        {% elif kind == 'boolean' %}
            {% if value | lower in ['true', 'false'] %}
                {% do literals.append(value | lower) %}
            {% else %}
                {% do errors.append(where ~ "value '" ~ value ~ "' is not true or false, but "
                                    ~ "feature '" ~ feature ~ "' is boolean") %}
            {% endif %}
        {% else %}
            {% do literals.append(leadscore.sql_string(value | lower, where ~ 'value')) %}
        {% endif %}
    {% endfor %}
    {% if operator == 'between' and kind == 'number' and literals | length == 2
          and literals[0] | float > literals[1] | float %}
        {% do errors.append(where ~ "between bounds '" ~ raw_value ~ "' are reversed; write "
                            ~ "the low bound first") %}
    {% endif %}

    {{ return({
        'rule_id': rule_id,
        'dimension': dimension,
        'feature': feature,
        'operator': operator,
        'literals': literals,
        'is_null': raw_value | lower != 'false',
        'points': (row['points'] | int) if leadscore.rule_is_whole_number(row['points']) else 0,
        'description': row['description'],
        'kind': kind,
    }) }}
{% endmacro %}


{#- The rules and grades, validated; raises one compiler error listing every problem.
    `feature_relation` is the table the rules score (lead_features or training_snapshots).
    Returns {'ready': false, ...} with no rules when the seeds are not loaded (parsing, lint):
    the models then render a harmless placeholder. -#}
{% macro scoring_rules_config(feature_relation) %}
    {% set base = leadscore_var('rule_base_score') %}
    {% set score_min = leadscore_var('rule_score_min') %}
    {% set score_max = leadscore_var('rule_score_max') %}
    {% if score_min >= score_max %}
        {{ exceptions.raise_compiler_error(
            "vars rule_score_min (" ~ score_min ~ ") and rule_score_max (" ~ score_max
            ~ ") must satisfy min < max") }}
    {% endif %}
    {% set config = {'ready': false, 'rules': [], 'base': base, 'min': score_min,
                     'max': score_max, 'grades': [{'grade': 'F', 'min_score': score_min}]} %}

    {% set rule_rows = leadscore.rule_seed_rows(
        'scoring_rules',
        ['rule_id', 'dimension', 'feature', 'operator', 'value', 'points', 'description']) %}
    {% set grade_rows = leadscore.rule_seed_rows('rule_grades', ['grade', 'min_score']) %}
    {% if rule_rows is none or grade_rows is none %}{{ return(config) }}{% endif %}
    {% if not leadscore.rule_relation_exists(
        feature_relation, "build the features first ('dbt build' builds everything in order)"
    ) %}
        {{ return(config) }}
    {% endif %}

    {% set kinds = {} %}
    {% for column in adapter.get_columns_in_relation(feature_relation) %}
        {% do kinds.update({column.name | lower: leadscore.rule_feature_kind(column.dtype)}) %}
    {% endfor %}

    {% set errors = [] %}
    {% set seen = [] %}
    {% for row in rule_rows %}
        {% if row['rule_id'] == '' %}
            {% do errors.append("scoring_rules.csv row " ~ loop.index ~ " (feature '"
                                ~ row['feature'] ~ "'): rule_id is empty; give every rule "
                                ~ "a unique rule_id") %}
        {% elif not leadscore.is_safe_id(row['rule_id']) %}
            {% do errors.append(leadscore.safe_id_error('scoring_rules', loop.index, 'rule_id',
                                                        row['rule_id'])) %}
        {% elif row['rule_id'] | lower == 'base' %}
            {% do errors.append("scoring_rules.csv rule 'base': rule_id 'base' is reserved for "
                                ~ "the base score in the breakdown; rename the rule") %}
        {% elif row['rule_id'] in seen %}
            {% do errors.append("scoring_rules.csv rule '" ~ row['rule_id'] ~ "': duplicate "
                                ~ "rule_id; every rule needs its own rule_id") %}
        {% else %}
            {% do seen.append(row['rule_id']) %}
            {% do config['rules'].append(leadscore.rule_parse(row, kinds, errors)) %}
        {% endif %}
    {% endfor %}

    {#- grades: unique names, numeric and unique minimum scores, one grade for every score -#}
    {% set grades = [] %}
    {% set grade_names = [] %}
    {% set grade_mins = [] %}
    {% for row in grade_rows %}
        {% set where = "rule_grades.csv grade '" ~ row['grade'] ~ "': " %}
        {% if row['grade'] == '' %}
            {% do errors.append("rule_grades.csv row " ~ loop.index ~ ": grade is empty") %}
        {% elif not leadscore.is_safe_id(row['grade']) %}
            {% do errors.append(leadscore.safe_id_error('rule_grades', loop.index, 'grade',
                                                        row['grade'])) %}
        {% elif row['grade'] in grade_names %}
            {% do errors.append(where ~ "duplicate grade; each grade needs one row") %}
        {% elif not leadscore.rule_is_number(row['min_score']) %}
            {% do errors.append(where ~ "min_score '" ~ row['min_score'] ~ "' is not a number; "
                                ~ "use e.g. 120") %}
        {% elif row['min_score'] | float in grade_mins %}
            {% do errors.append(where ~ "min_score " ~ row['min_score'] ~ " is the same as "
                                ~ "another grade's; each grade needs its own minimum") %}
        {% else %}
            {% do grade_names.append(row['grade']) %}
            {% do grade_mins.append(row['min_score'] | float) %}
            {% do grades.append({'grade': row['grade'], 'min_score': row['min_score'],
                                 'sort_key': row['min_score'] | float}) %}
        {% endif %}
    {% endfor %}
    {% if grade_rows | length == 0 %}
        {% do errors.append("rule_grades.csv has no grades; add rows grade,min_score") %}
    {% elif grades | length > 0 and grade_mins | min > score_min %}
        {% do errors.append("rule_grades.csv: the lowest min_score (" ~ grade_mins | min
                            ~ ") is above var rule_score_min (" ~ score_min ~ "), so some "
                            ~ "scores would get no grade; lower it to " ~ score_min) %}
    {% endif %}

    {% if errors %}
        {{ exceptions.raise_compiler_error(
            "invalid scoring rules (seeds/scoring_rules.csv, seeds/rule_grades.csv); fix and "
            ~ "rerun dbt build:\n  - " ~ errors | join('\n  - ')) }}
    {% endif %}
    {% do config.update({'ready': true,
                         'grades': grades | sort(attribute='sort_key', reverse=true)}) %}
    {{ return(config) }}
{% endmacro %}


{#- THE condition of one rule on a feature table alias, as a boolean that is never NULL: a
    NULL feature matches only is_null (unknown never earns or loses points). Text compares
    lowercased values. -#}
{% macro rule_match(rule, alias) -%}
    {%- set column = alias ~ '.' ~ adapter.quote(rule['feature']) -%}
    {%- set op = rule['operator'] -%}
    {%- set lits = rule['literals'] -%}
    {%- if op == 'is_null' -%}
        ({{ column }} is {{ '' if rule['is_null'] else 'not ' }}null)
    {%- else -%}
        {%- if rule['kind'] == 'text' -%}{%- set column = 'lower(' ~ column ~ ')' -%}{%- endif -%}
        coalesce(
        {%- if op == '=' -%}{{ column }} = {{ lits[0] }}
        {%- elif op == '!=' -%}{{ column }} <> {{ lits[0] }}
        {%- elif op in ['<', '<=', '>', '>='] -%}{{ column }} {{ op }} {{ lits[0] }}
        {%- elif op == 'in' -%}{{ column }} in ({{ lits | join(', ') }})
        {%- elif op == 'not_in' -%}{{ column }} not in ({{ lits | join(', ') }})
        {%- elif op == 'between' -%}{{ column }} between {{ lits[0] }} and {{ lits[1] }}
        {%- endif -%}, false)
    {%- endif -%}
{%- endmacro %}


{#- Points of one dimension (fit | engagement) of a row: the sum of the matched rules'
    points, one conditional expression per rule (one scan, no join). -#}
{% macro rule_points(config, dimension, alias) -%}
    {%- set rules = config['rules'] | selectattr('dimension', 'equalto', dimension) | list -%}
    cast(
                {%- if rules | length == 0 %} 0
                {%- else %}
                {%- for rule in rules %}
                {{ '+ ' if not loop.first }}case when {{ leadscore.rule_match(rule, alias) }}
                    {{- ' then ' ~ rule['points'] ~ ' else 0 end  -- '
                        ~ leadscore.safe_id(rule['rule_id'], 'scoring_rules.csv rule_id') }}
                {%- endfor %}
                {%- endif %}
                as {{ dbt.type_int() }}
            )
{%- endmacro %}


{#- The score clamped to [rule_score_min, rule_score_max]. -#}
{% macro rule_clamp(config, expression) -%}
    case
                when {{ expression }} < {{ config['min'] }} then {{ config['min'] }}
                when {{ expression }} > {{ config['max'] }} then {{ config['max'] }}
                else {{ expression }}
            end
{%- endmacro %}


{#- The grade of a score: the highest grade whose min_score <= score (validated: the lowest
    grade's min_score <= rule_score_min, so every score gets one). -#}
{% macro rule_grade(config, expression) -%}
    {%- set grades = config['grades'] -%}
    {%- if grades | length == 1 -%}
        {{ leadscore.sql_string(grades[0]['grade']) }}
    {%- else -%}
    case
        {%- for grade in grades[:-1] %}
            when {{ expression }} >= {{ grade['min_score'] }}
                then {{ leadscore.sql_string(grade['grade']) }}
        {%- endfor %}
            else {{ leadscore.sql_string(grades[-1]['grade']) }}
        end
    {%- endif -%}
{%- endmacro %}


{#- The scores of every row of the CTE `features` (keys lead_id and `time_column`):
    fit_score, engagement_score, rule_score_unclamped (= base + both), rule_score (clamped),
    rule_grade. Used by lead_rule_scores and training_rule_scores. -#}
{% macro rule_scores_select(config, features, time_column) %}
    with

    points as (

        select
            {{ features }}.lead_id,
            {{ features }}.{{ time_column }},
            {{ leadscore.rule_points(config, 'fit', features) }} as fit_score,
            {{ leadscore.rule_points(config, 'engagement', features) }} as engagement_score
        from {{ features }}

    ),

    unclamped as (

        select
            lead_id,
            {{ time_column }},
            fit_score,
            engagement_score,
            cast({{ config['base'] }} + fit_score + engagement_score as {{ dbt.type_int() }})
                as rule_score_unclamped
        from points

    ),

    clamped as (

        select
            *,
            {{ leadscore.rule_clamp(config, 'rule_score_unclamped') }} as rule_score
        from unclamped

    )

    select
        *,
        {{ leadscore.rule_grade(config, 'rule_score') }} as rule_grade
    from clamped
{% endmacro %}


{#- The rules as rows (rule_id, dimension, feature, points, description), plus the base
    score as rule 'base'. -#}
{% macro rule_rows_select(config) %}
    select
        'base' as rule_id,
        'base' as dimension,
        cast(null as {{ dbt.type_string() }}) as feature,
        cast({{ config['base'] }} as {{ dbt.type_int() }}) as points,
        'base score (var rule_base_score)' as description
    {%- for rule in config['rules'] %}
    union all
    select
        {{ leadscore.sql_string(rule['rule_id']) }},
        {{ leadscore.sql_string(rule['dimension']) }},
        {{ leadscore.sql_string(rule['feature']) }},
        {{ rule['points'] }},
        {{ leadscore.sql_string(rule['description'], 'scoring_rules.csv description') }}
    {%- endfor %}
{% endmacro %}


{#- Whether rule `rule_id_column` matched the row of `alias` ('base' always does): one
    conditional expression over all rules, for a cross join of rows and rules. -#}
{% macro rule_matched_by_id(config, rule_id_column, alias) -%}
    case {{ rule_id_column }}
            when 'base' then true
            {%- for rule in config['rules'] %}
            when {{ leadscore.sql_string(rule['rule_id']) }}
                then {{ leadscore.rule_match(rule, alias) }}
            {%- endfor %}
            else false
        end
{%- endmacro %}


{#- The feature value a rule looked at, as text (numbers rounded to 2 decimals). -#}
{% macro rule_feature_value(config, rule_id_column, alias) -%}
    {%- if config['rules'] | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        case {{ rule_id_column }}
            {%- for rule in config['rules'] %}
            {%- set column = alias ~ '.' ~ adapter.quote(rule['feature']) %}
            when {{ leadscore.sql_string(rule['rule_id']) }}
                then cast(
                    {{- 'round(' ~ column ~ ', 2)' if rule['kind'] == 'number' else column }}
                    as {{ dbt.type_string() }})
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}


{#- Generic test: the breakdown rows of each lead sum to its rule_score_unclamped, and every
    scored lead has breakdown rows (its 'base' row) and vice versa. -#}
{% test rule_breakdown_sums_to_score(model, breakdown, time_column='as_of') %}

with

scores as (

    select * from {{ model }}

),

breakdown_totals as (

    select
        lead_id,
        {{ time_column }},
        sum(points) as total_points,
        sum(case when rule_id = 'base' then 1 else 0 end) as n_base_rows
    from {{ breakdown }}
    group by lead_id, {{ time_column }}

)

select
    coalesce(scores.lead_id, breakdown_totals.lead_id) as lead_id,
    scores.rule_score_unclamped,
    breakdown_totals.total_points,
    breakdown_totals.n_base_rows
from scores
full outer join breakdown_totals
    on
        scores.lead_id = breakdown_totals.lead_id
        and scores.{{ time_column }} = breakdown_totals.{{ time_column }}
where
    scores.lead_id is null
    or breakdown_totals.lead_id is null
    or scores.rule_score_unclamped <> breakdown_totals.total_points
    or breakdown_totals.n_base_rows <> 1

{% endtest %}


{#- Generic test: each row's rule_grade is the highest grade of seed rule_grades whose
    min_score <= rule_score (checked against the seed, independent of the generated case). -#}
{% test rule_grade_matches_thresholds(model, grades) %}

with

grades as (

    select
        grade,
        cast(min_score as {{ leadscore.type_double() }}) as min_score
    from {{ grades }}

),

expected as (

    select
        scores.rule_score,
        scores.rule_grade,
        coalesce(
            (select max(grades.min_score) from grades where grades.min_score <= scores.rule_score),
            (select min(grades.min_score) from grades)
        ) as expected_min_score
    from {{ model }} as scores

)

select expected.*
from expected
left join grades on expected.rule_grade = grades.grade
where grades.grade is null or grades.min_score <> expected.expected_min_score

{% endtest %}
