{#- The quarantine: every raw row that staging could not use, with the reason. Nothing is
    dropped silently; data_quality counts these by table and reason. -#}
{% set sources = [
    ('leads', 'base_crm__leads', 'lead_id', 'created_at_source'),
    ('activities', 'base_crm__activities', 'activity_id', 'occurred_at_source'),
    ('opportunities', 'base_crm__opportunities', 'opportunity_id', 'created_at_source'),
    ('lead_status_changes', 'base_crm__lead_status_changes', 'lead_id', 'changed_at_source'),
] %}

with

unioned as (

    {% for table, model, key, ts in sources %}
        select
            '{{ table }}' as source_table,
            {{ key }} as record_key,
            rejection_reason,
            cast({{ ts }} as {{ dbt.type_string() }}) as timestamp_raw
        from {{ ref(model) }}
        where rejection_reason is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unioned
