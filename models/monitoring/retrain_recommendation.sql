{#- Should the champion be retrained? One row per run (as_of): yes/no and the reasons, from
    the monitoring marts:
    - decay: ROC-AUC on the latest matured cohort the champion scored is retrain_auc_drop
      (relative) or more below its test ROC-AUC, like with like: model_performance's
      age_matched row (the cohort's ROC-AUC within lead-age bands against the test ROC-AUC of
      the same bands, both weighted by the cohort's age mix) when the registry has test
      metrics by age band, else the cohort's overall ROC-AUC against the overall test value
      (decay_reference says which);
    - calibration: that cohort's expected calibration error is above retrain_max_ece;
    - drift: a feature with at least retrain_min_importance of the champion's importance is
      in alert in feature_drift;
    - age: the champion's data is retrain_every_days or more older than as_of;
    - no champion at all.
    The registry reads the latest row of an earlier run (retrain_on_recommendation), so a
    recommendation made today trains on the next run. Incremental (a rerun replaces its own
    row; full_refresh off: the record of past recommendations is kept). -#}
{{
    config(
        materialized='incremental',
        unique_key='as_of',
        incremental_strategy='delete+insert',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}
{% set auc_drop = leadscore_var('retrain_auc_drop') %}
{% set max_ece = leadscore_var('retrain_max_ece') %}
{% set min_importance = leadscore_var('retrain_min_importance') %}
{% set every_days = leadscore_var('retrain_every_days') %}
{% set overall = "performance.segment = 'overall'" %}
{% set age_matched = "performance.segment = 'age_matched' and performance.metric = 'roc_auc'" %}

with

params as (

    select * from {{ ref('int_as_of_resolved') }}

),

registry as (

    select * from {{ ref('model_registry') }}

),

performance as (

    select * from {{ ref('model_performance') }}

),

drift as (

    select * from {{ ref('feature_drift') }}

),

champion as (

    select
        model_version,
        data_as_of,
        test_roc_auc
    from registry
    where is_champion

),

latest_cohort as (

    select performance.as_of
    from performance
    inner join champion on performance.model_version = champion.model_version
    where performance.segment = 'overall'
    order by performance.as_of desc
    limit 1

),

cohort as (

    select
        max(performance.as_of) as cohort_as_of,
        max(case when {{ overall }} and performance.metric = 'roc_auc' then performance.value end)
            as cohort_roc_auc,
        max(
            case
                when {{ overall }} and performance.metric = 'roc_auc'
                    then performance.change_vs_test
            end
        ) as cohort_auc_change,
        max(case when {{ overall }} and performance.metric = 'ece' then performance.value end)
            as cohort_ece,
        max(case when {{ age_matched }} then performance.value end) as cohort_age_matched_roc_auc,
        max(case when {{ age_matched }} then performance.test_value end)
            as cohort_age_matched_test_roc_auc,
        max(case when {{ age_matched }} then performance.change_vs_test end)
            as cohort_age_matched_auc_change
    from performance
    inner join champion on performance.model_version = champion.model_version
    inner join latest_cohort on performance.as_of = latest_cohort.as_of
    where performance.segment in ('overall', 'age_matched') and performance.decile is null

),

decay as (

    select
        cohort.*,
        coalesce(cohort.cohort_age_matched_auc_change, cohort.cohort_auc_change)
            as decay_auc_change,
        case
            when cohort.cohort_age_matched_auc_change is not null then 'age_matched'
            when cohort.cohort_auc_change is not null then 'overall'
        end as decay_reference
    from cohort

),

drifted as (

    select
        count(*) as n_drifted_features,
        string_agg(feature, ', ' order by importance desc) as drifted_features
    from drift
    where status = 'alert' and coalesce(importance, 0) >= {{ min_importance }}

),

signals as (

    select
        params.as_of,
        champion.model_version as champion_version,
        champion.test_roc_auc as champion_test_roc_auc,
        {{ leadscore.fractional_days('champion.data_as_of', 'params.as_of') }}
            as champion_age_days,
        decay.cohort_as_of,
        decay.cohort_roc_auc,
        decay.cohort_auc_change,
        decay.cohort_ece,
        decay.cohort_age_matched_roc_auc,
        decay.cohort_age_matched_test_roc_auc,
        decay.cohort_age_matched_auc_change,
        decay.decay_auc_change,
        decay.decay_reference,
        drifted.n_drifted_features,
        drifted.drifted_features
    from params
    left join champion on true
    cross join decay
    cross join drifted

),

reasons as (

    select
        signals.*,
        nullif(concat_ws(
            '; ',
            case when signals.champion_version is null then 'no champion model' end,
            case
                when
                    signals.decay_auc_change <= -{{ auc_drop }}
                    and signals.decay_reference = 'age_matched'
                    then
                        'ROC-AUC within lead-age bands on the cohort of '
                        || cast(signals.cohort_as_of as date) || ' is '
                        || cast(
                            round(signals.cohort_age_matched_roc_auc, 3)
                            as {{ dbt.type_string() }}
                        )
                        || ', '
                        || cast(
                            round(-100 * signals.decay_auc_change, 1) as {{ dbt.type_string() }}
                        )
                        || '% below the test ROC-AUC of the same bands '
                        || cast(
                            round(signals.cohort_age_matched_test_roc_auc, 3)
                            as {{ dbt.type_string() }}
                        )
                        || ' (bands weighted by their share of the cohort)'
                when signals.decay_auc_change <= -{{ auc_drop }}
                    then
                        'ROC-AUC on the cohort of ' || cast(signals.cohort_as_of as date)
                        || ' is '
                        || cast(round(signals.cohort_roc_auc, 3) as {{ dbt.type_string() }})
                        || ', '
                        || cast(
                            round(-100 * signals.decay_auc_change, 1) as {{ dbt.type_string() }}
                        )
                        || '% below the test ROC-AUC '
                        || cast(round(signals.champion_test_roc_auc, 3) as {{ dbt.type_string() }})
            end,
            case
                when signals.cohort_ece > {{ max_ece }}
                    then
                        'calibration error '
                        || cast(round(signals.cohort_ece, 3) as {{ dbt.type_string() }})
                        || ' on the cohort of ' || cast(signals.cohort_as_of as date)
                        || ' is above retrain_max_ece {{ max_ece }}'
            end,
            case
                when signals.n_drifted_features > 0
                    then 'drift alert on important features: ' || signals.drifted_features
            end,
            case
                when signals.champion_age_days >= {{ every_days }}
                    then
                        'champion is ' || cast(floor(signals.champion_age_days) as integer)
                        || ' days old (retrain_every_days = {{ every_days }})'
            end
        ), '') as reasons
    from signals

),

final as (

    select
        as_of,
        champion_version,
        reasons is not null as should_retrain,
        reasons,
        champion_test_roc_auc,
        champion_age_days,
        cohort_as_of,
        cohort_roc_auc,
        cohort_auc_change,
        cohort_ece,
        cohort_age_matched_roc_auc,
        cohort_age_matched_test_roc_auc,
        cohort_age_matched_auc_change,
        decay_auc_change,
        decay_reference,
        n_drifted_features,
        drifted_features,
        {{ leadscore.run_timestamp() }} as recommended_at
    from reasons

)

select * from final
