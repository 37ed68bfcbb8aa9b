{#- The segments of every lead open at as_of, for dashboards and lead_scores: the rule-based
    RFM segment (lead_rfm) and the K-Means cluster (lead_clusters) with the cluster's name of
    this as_of (segment_centroids). cluster_id is stable across runs; see README "Segments". -#}
with

rfm as (

    select * from {{ ref('lead_rfm') }}

),

clusters as (

    select * from {{ ref('lead_clusters') }}

),

centroids as (

    select * from {{ ref('segment_centroids') }}

),

final as (

    select
        rfm.lead_id,
        rfm.as_of,
        rfm.rfm_segment,
        clusters.cluster_id,
        centroids.cluster_name,
        rfm.rfm_code,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        clusters.distance_to_centroid,
        clusters.is_outlier
    from rfm
    left join clusters on rfm.lead_id = clusters.lead_id
    left join centroids
        on
            clusters.cluster_id = centroids.cluster_id
            and clusters.as_of = centroids.as_of

)

select * from final
