{#- Post-hook of the run-history tables (lead_score_history, scoring_runs): one set of rows per
    `key` (e.g. lead_id, as_of), the latest run's. The tables are incremental with unique_key
    as_of, so a rerun of a day replaces that day's rows whatever model scores it; this removes
    the older duplicates that databases built before that (key as_of, model_version) may hold,
    so an upgrade neither fails the uniqueness test nor double counts a day. Such duplicates
    can only be on a day scored by more than one model, so only those days (normally none; a
    one-key aggregate finds them) are compared row by row. -#}
{% macro keep_latest_run(key) %}
    delete from {{ this }} as older
    where older.as_of in (
        select as_of from {{ this }}
        group by as_of
        having count(distinct model_version) > 1
    )
    and exists (
        select 1
        from {{ this }} as newer
        where
            {% for column in key %}newer.{{ column }} = older.{{ column }} and {% endfor %}
            (
                newer.scored_at > older.scored_at
                or (newer.scored_at = older.scored_at and newer.model_version > older.model_version)
            )
    )
{% endmacro %}
