{#- Every tier x rule grade pair has exactly one recommended action in
    seeds/recommended_actions.csv (a missing pair would leave leads without an action). -#}
with

grades as (

    select grade from {{ ref('rule_grades') }}

),

tiers as (

    select 'hot' as tier
    union all
    select 'warm'
    union all
    select 'cold'

),

actions as (

    select * from {{ ref('recommended_actions') }}

),

final as (

    select
        tiers.tier,
        grades.grade,
        count(actions.recommended_action) as n_actions
    from tiers
    cross join grades
    left join actions on tiers.tier = actions.tier and grades.grade = actions.rule_grade
    group by tiers.tier, grades.grade
    having count(actions.recommended_action) <> 1

)

select * from final
