{#- One row per scoring day (as_of), the latest run's: what was scored, with what model, and
    what went wrong along the way: no open lead at as_of, the rule fallback, leads with
    category values the model never saw, features NULL for every lead. Incremental like the
    history (a rerun of a day replaces its row, even with another model; full_refresh off). -#}
{{
    config(
        materialized='incremental',
        unique_key='as_of',
        incremental_strategy='delete+insert',
        full_refresh=false,
        post_hook="{{ keep_latest_run(['as_of']) }}",
    )
}}
{% set feature_columns = [] %}
{% if execute %}
    {% for column in adapter.get_columns_in_relation(ref('lead_features')) %}
        {% if column.name not in ['lead_id', 'as_of', 'last_input_at'] %}
            {% do feature_columns.append(column.name) %}
        {% endif %}
    {% endfor %}
{% endif %}

with

params as (

    select * from {{ ref('int_as_of_resolved') }}

),

scores as (

    select * from {{ ref('lead_scores') }}

),

features as (

    select * from {{ ref('lead_features') }}

),

registry as (

    select * from {{ ref('model_registry') }}

),

null_features as (

    select
        nullif(concat_ws(
            ', ',
            {% for column in feature_columns %}
                case
                    when count({{ adapter.quote(column) }}) = 0
                        then {{ leadscore.sql_string(column) }}
                end,
            {% endfor %}
            cast(null as {{ dbt.type_string() }})
        ), '') as all_null_features
    from features
    having count(*) > 0

),

champion as (

    select min(model_version) as model_version
    from registry
    where is_champion

),

run as (

    select
        count(*) as n_leads_scored,
        count(*) filter (where tier = 'hot') as n_hot,
        count(*) filter (where tier = 'warm') as n_warm,
        count(*) filter (where tier = 'cold') as n_cold,
        count(*) filter (where scoring_notes like '%not seen in training%')
            as n_leads_with_unseen_values,
        count(*) filter (where conversion_probability is null) as n_leads_without_probability,
        min(model_version) as model_version,
        min(model_type) as model_type,
        avg(conversion_probability) as mean_probability,
        sum(conversion_probability) as expected_conversions
    from scores

),

final as (

    select
        params.as_of,
        coalesce(run.model_version, champion.model_version, 'rules') as model_version,
        run.model_type,
        run.n_leads_scored,
        run.n_hot,
        run.n_warm,
        run.n_cold,
        run.n_leads_with_unseen_values,
        run.n_leads_without_probability,
        run.mean_probability,
        run.expected_conversions,
        null_features.all_null_features,
        nullif(concat_ws(
            '; ',
            case
                when run.n_leads_scored = 0 and params.as_of <= params.first_lead_created_at
                    then
                        'no lead is open at as_of: it is before the first lead ('
                        || cast(params.first_lead_created_at as varchar) || ')'
                when run.n_leads_scored = 0 then 'no lead is open at as_of'
            end,
            case
                when run.model_type = 'rules'
                    then 'no usable model: leads scored with the rule score (see scoring_notes)'
            end,
            case
                when run.n_leads_with_unseen_values > 0
                    then
                        cast(run.n_leads_with_unseen_values as varchar)
                        || ' leads have category values never seen in training (scored as unknown)'
            end,
            case
                when null_features.all_null_features is not null
                    then
                        'features NULL for every lead: ' || null_features.all_null_features
                        || ' (the model treats them as missing; check the source columns)'
            end
        ), '') as notes,
        {{ leadscore.run_timestamp() }} as scored_at
    from params
    cross join run
    cross join champion
    left join null_features on true

)

select * from final
