{#- One row per lead: the attributes known when the lead was created, parsed into fit
    features: size band, region, seniority and function from the job title, corporate vs
    free-mail domain, sign-up day and hour, and the user's custom attributes. -#}
with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

size_bands as (

    select * from {{ ref('company_size_bands') }}

),

regions as (

    select * from {{ ref('country_regions') }}

),

free_mail as (

    select * from {{ ref('free_mail_domains') }}

),

title_patterns as (

    select * from {{ ref('job_title_patterns') }}

),

size_band_of as (

    -- sizes repeat across leads: place each distinct size in its band once (a range join
    -- over a few thousand sizes instead of every lead)
    select
        sizes.company_size,
        size_bands.company_size_band,
        size_bands.midpoint_employees
    from (
        select distinct company_size from leads
        where company_size is not null
    ) as sizes
    inner join size_bands
        on
            sizes.company_size >= size_bands.min_employees
            and (
                sizes.company_size < size_bands.max_employees + 1
                or size_bands.max_employees is null
            )

),

distinct_titles as (

    -- titles repeat across leads: match each distinct title once
    select distinct job_title from leads
    where job_title is not null

),

title_matches as (

    select
        distinct_titles.job_title,
        title_patterns.dimension,
        title_patterns.value,
        title_patterns.level,
        row_number() over (
            partition by distinct_titles.job_title, title_patterns.dimension
            order by title_patterns.priority
        ) as match_rank
    from distinct_titles
    inner join title_patterns
        on {{ regex_matches('distinct_titles.job_title', 'title_patterns.pattern') }}

),

titles as (

    select
        job_title,
        max(case when dimension = 'seniority' then value end) as seniority,
        max(case when dimension = 'seniority' then level end) as seniority_level,
        max(case when dimension = 'function' then value end) as job_function
    from title_matches
    where match_rank = 1
    group by job_title

),

with_domain as (

    select
        leads.*,
        case
            when not leads.has_malformed_email
                then {{ dbt.split_part('leads.email', "'@'", 2) }}
        end as email_domain
    from leads

),

final as (

    select
        leads.lead_id,
        leads.created_at,
        leads.lead_source,
        leads.company_size,
        size_bands.company_size_band,
        ln(leads.company_size) as company_size_log,
        size_bands.midpoint_employees as company_size_band_midpoint,
        leads.industry,
        leads.country,
        case
            when leads.country is not null then coalesce(regions.region, 'other')
        end as region,
        titles.seniority,
        titles.seniority_level,
        titles.job_function,
        leads.email_domain,
        case
            when leads.email_domain is not null then free_mail.email_domain is null
        end as is_corporate_email,
        {{ day_of_week('leads.created_at') }} as created_day_of_week,
        extract(hour from leads.created_at) as created_hour
        {{- lead_attribute_columns('leads.') }}
    from with_domain as leads
    left join size_band_of as size_bands on leads.company_size = size_bands.company_size
    left join regions on leads.country = regions.country
    left join titles on leads.job_title = titles.job_title
    left join free_mail on leads.email_domain = free_mail.email_domain

)

select * from final
