"""Generated cluster names and distinguishing features of segment_centroids, from how far a
centroid lies from the mean of the *other* leads (:func:`contrast_with_rest`) and the words
of seed segment_name_terms. Names are regenerated on every run (DECISIONS.md, "Cluster ids
are stable across runs"); the rules with examples: docs/segments.md, "Names"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class NameTerm:
    """A row of seed segment_name_terms: the words a feature contributes to a name."""

    feature: str
    axis: str
    part: str  # adjective | noun
    high_term: str | None
    low_term: str | None
    neutral_term: str | None = None

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> dict[str, NameTerm]:
        terms: dict[str, NameTerm] = {}
        for row in rows:
            part = (row.get("part") or "adjective").strip()
            if part not in ("adjective", "noun"):
                raise ValueError(
                    f"seed segment_name_terms: feature {row.get('feature')} has part {part!r}; "
                    "use adjective or noun"
                )
            terms[row["feature"]] = cls(
                feature=row["feature"],
                axis=row.get("axis") or row["feature"],
                part=part,
                high_term=(row.get("high_term") or None),
                low_term=(row.get("low_term") or None),
                neutral_term=(row.get("neutral_term") or None),
            )
        return terms


DEFAULT_NOUN = "leads"
NO_ADJECTIVE = "typical"


def _term_of(feature: str, z: float, terms: Mapping[str, NameTerm]) -> str | None:
    term = terms.get(feature)
    if term is None:
        return f"high {feature}" if z > 0 else f"low {feature}"
    return term.high_term if z > 0 else term.low_term


def cluster_name(
    center_z: np.ndarray,
    features: Sequence[str],
    constant: Sequence[bool],
    terms: Mapping[str, NameTerm],
    threshold: float,
    max_terms: int,
) -> str:
    """'<adjective>, <adjective> <noun>' from the distinguishing features of a centroid in
    standard deviations. Per axis only the strongest feature speaks; adjectives are ordered
    by |z|. A feature without a seed row reads 'high <feature>' / 'low <feature>'."""
    noun = DEFAULT_NOUN
    best_by_axis: dict[str, tuple[float, str]] = {}
    for j, feature in enumerate(features):
        if constant[j]:
            continue
        z = float(center_z[j])
        term = terms.get(feature)
        if term is not None and term.part == "noun":
            if z >= threshold and term.high_term:
                noun = term.high_term
            elif z <= -threshold and term.low_term:
                noun = term.low_term
            elif term.neutral_term:
                noun = term.neutral_term
            continue
        if abs(z) < threshold:
            continue
        word = _term_of(feature, z, terms)
        if not word:
            continue
        axis = term.axis if term is not None else feature
        if axis not in best_by_axis or abs(z) > best_by_axis[axis][0]:
            best_by_axis[axis] = (abs(z), word)
    words = [w for _, w in sorted(best_by_axis.values(), key=lambda t: -t[0])][:max_terms]
    return f"{', '.join(words) if words else NO_ADJECTIVE} {noun}"


def cluster_names(
    centers_z: np.ndarray,
    ids: Sequence[int],
    features: Sequence[str],
    constant: Sequence[bool],
    terms: Mapping[str, NameTerm],
    threshold: float,
    max_terms: int,
) -> list[str]:
    """Names of all clusters, made unique: clashing clusters get more terms, and if they
    still clash, their id ('dormant SMB (cluster 4)')."""
    names = [cluster_name(c, features, constant, terms, threshold, max_terms) for c in centers_z]
    for extra in range(1, len(features) + 1):
        clashes = {n for n in names if names.count(n) > 1}
        if not clashes:
            return names
        names = [
            cluster_name(c, features, constant, terms, threshold, max_terms + extra)
            if n in clashes
            else n
            for c, n in zip(centers_z, names, strict=True)
        ]
    return [
        f"{n} (cluster {i})" if names.count(n) > 1 else n for n, i in zip(names, ids, strict=True)
    ]


def contrast_with_rest(centers_z: np.ndarray, shares: Sequence[float]) -> np.ndarray:
    """How far each cluster's centroid lies from the mean of all *other* leads, in standard
    deviations. The fit sample's mean is 0 in z and K-Means centroids are member means, so
    the rest's mean is -share/(1 - share) x centroid and the contrast is centroid/(1 - share).
    A dominant cluster sits near the overall mean but far from the rest: naming by contrast
    calls it "dormant", not "typical"."""
    rest = 1.0 - np.minimum(np.asarray(shares, dtype=np.float64), 0.99)
    return centers_z / rest[:, None]


def distinguishing_features(
    contrast: np.ndarray, features: Sequence[str], threshold: float, limit: int = 4
) -> str:
    """'engagement_score_decayed +1.6 sd; company_size -0.8 sd': the centroid minus the
    other leads' mean (see :func:`contrast_with_rest`), largest first."""
    order = sorted(range(len(features)), key=lambda j: -abs(contrast[j]))
    parts = [f"{features[j]} {contrast[j]:+.1f} sd" for j in order if abs(contrast[j]) >= threshold]
    return "; ".join(parts[:limit]) if parts else "close to the other leads on every feature"
