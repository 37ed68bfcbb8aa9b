"""Feature drift: today's scoring population against the scoring model's training reference.

``feature_drift`` is what the dbt Python model ``feature_drift`` calls; everything below it
is a pure function on numpy arrays and pyarrow tables.

Decisions
- Which model: the one that scores leads at as_of (``registry.scoring_model_of``: the champion; in a
  backfill the earlier model ``lead_predictions`` uses), so the drift read next to the scores
  is the drift of the model that made them. Its input columns (``feature_spec``) are the rows,
  and each row carries the column's share of that model's importance (``importance_shares``).
- The reference: the *grid* snapshots of ``training_snapshots`` in the model's train window
  (``snapshot_at`` between ``train_from`` and ``train_to``; that window was its train split,
  whatever split a later run gives those rows), a hash sample of ``drift_reference_rows``.
- The current population: the open leads of ``lead_features`` *no older than the oldest
  reference snapshot*. The training spine holds each lead's first ``max_snapshots_per_lead``
  grid points (about 13 weeks), while today's open leads include every lead never converted
  or disqualified: on the demo (20,000 leads, seed 42, as_of 2026-10-01) 9,622 of 12,712 open
  leads are older than 91 days. Compared as they are, lead_age_days (PSI 2.4), every recency
  feature and every windowed count alert on every run (20 alert and 11 watch of 67 features,
  among them the first and fifth most important) — an alarm that retraining cannot clear,
  since the next model's training population has the same shape. Restricted to the leads in
  the reference's age range the comparison is like with like, "leads in their first weeks
  then and now", and a change in the intake (a new source, a tracking change) shows first
  and undiluted by the stale backlog. The leads left out are counted
  (``n_current_beyond_reference_age``) and named in ``notes``: the model scores them by
  extrapolation, a property of the snapshot design, not drift.
- Measured and rejected: the champion's test-window snapshots (same shape as train: 17
  alerts); keeping the ``first`` snapshots (one hour after creation, a tenth of the spine:
  lead_age_days alerts at PSI 0.73 because hardly any lead is an hour old at as_of); the
  population scored at the champion's own as_of (``lead_score_history`` keeps scores, not
  features).
- Calendar-cumulative features (var ``calendar_cumulative_features``: n_prior_won_deals_domain
  and prior_won_amount_domain, the won deals of the lead's e-mail domain before T) are running
  totals over the CRM's history, not the lead's: they grow with calendar time even when
  nothing changes. Against the train window, months older, they alerted on undrifted demo
  data (PSI 0.32: the share of leads whose domain already has a won deal is 5 % in the train
  window and 24 % now, because the generated history starts 18 months before as_of). So they
  get a time-matched reference (``load_time_matched``): the grid snapshots of the
  ``drift_calendar_reference_days`` (28) days before as_of minus the reference age (the
  oldest lead age compared, about 91 days), of leads no older than that age. They are the
  latest snapshots that share no lead with today's compared population (created after that
  date): "leads in their first weeks a generation ago and now", about 3.5 months apart
  instead of a year. On the demo without drift they give PSI 0.029 and 0.021 (ok); a change
  of the intake (a campaign to existing customers' colleagues, a broken e-mail capture) still
  shows, against that reference. Measured and rejected: dividing by a time-matched quantity
  (the CRM's won deals before T: PSI 0.55, since the share of zeros is what moves and no
  scaling moves a zero); the model's test window (PSI 0.035 on a new model, but growing with
  the model's age); the snapshots of the last 28 days before as_of (PSI 0.001, but they are
  largely today's leads a few weeks earlier, so a lasting change is absorbed within weeks:
  7 days gave PSI 0.0000 by comparing leads with themselves). The rows say which reference
  they used (``reference_population``, ``is_calendar_cumulative``); without one (a CRM
  younger than the window) the feature is compared with the model's reference and a note
  says its growth shows as drift. A user's own attribute of that kind (an account's orders
  to date) belongs in the var.
- On the demo data without injected drift this gives 67 ok of 67 features (before the
  time-matched reference: 65 ok and 2 alert, the two features above at PSI 0.32). The largest
  PSI among the ten most important features is 0.007. With the generator's injected drift
  (``--drift-after 2026-07-01``: a new source, a tracking change, a conversion shift)
  lead_source alerts (PSI 2.0, top bin tiktok_ads, 17 % of the importance), as do the
  e-mail-open counts and email_click_through_rate.
- No model (rule fallback): the grid snapshots of the current train split against the
  features training would use (``FeatureSpec.from_schema`` minus ``exclude_features``),
  importance NULL, model_version ``rules``: a broken source matters to the rules too. The
  same fallback, with a note, when the model's train window is gone from
  ``training_snapshots`` (older than ``snapshot_history_days``).
- Statistics. PSI = sum over bins of (c - r) ln(c / r), the shares floored at
  ``drift_psi_floor``. Numeric: ``drift_n_bins`` bins on the reference's quantiles (inverted
  CDF, so edges are reference values and ties collapse bins), open-ended at both ends;
  categorical and boolean: a bin per value, values unseen in the reference each their own;
  NULL (and NaN) is a bin of its own. Status: ok below ``drift_psi_watch``, watch
  below ``drift_psi_alert``, alert above; no_data when one side has no rows. The size of the
  drift is PSI's alone: with thousands of rows p-values are tiny for harmless differences
  (demo: lead_age_days KS p = 0.002 at PSI 0.007), so KS (numeric, non-NULL values) is
  reported for reading only. But sampling noise alone gives a PSI of about
  (bins - 1) x (1/n_ref + 1/n_cur): on a 600-lead CRM (87 comparable open leads) PSI alone
  put 3 features in alert and 16 in watch. So a status above ok also needs the chi-square test
  of the same bins (tiny bins pooled) to reject "same distribution", at ``drift_max_p_value``
  (0.01) divided by the number of features (Bonferroni: noise alone flags any feature of a
  run with a chance of at most 1 %); that left 0 alert and 3 watch on that CRM (the two
  cumulative won-deal features above, p = 4e-17, before their time-matched reference, and
  seniority_x_engagement, p = 9e-6). At demo size every PSI above 0.1 passes the test
  easily, so the status is PSI's there.

Modules, each importing only those above it: ``config`` (DriftConfig), ``bins``,
``statistics``, ``compare``, ``reading`` (the DuckDB reads), ``run`` (the entry points).
"""

from leadscore.drift.bins import NULL_BIN, Bins, bin_categorical, bin_numeric, quantile_edges
from leadscore.drift.compare import (
    DRIFT_SCHEMA,
    MAX_CATEGORY_BINS_JSON,
    MIN_STABLE_ROWS,
    Populations,
    TimeMatchedReference,
    compare_feature,
    compare_populations,
)
from leadscore.drift.config import DriftConfig
from leadscore.drift.reading import AGE_COLUMN, load_populations, load_time_matched
from leadscore.drift.run import drift_of_run, feature_drift, importance_shares
from leadscore.drift.statistics import (
    CHI2_MIN_EXPECTED,
    chi_square,
    drift_status,
    ks_test,
    psi,
    psi_contributions,
)

__all__ = [
    "AGE_COLUMN",
    "CHI2_MIN_EXPECTED",
    "DRIFT_SCHEMA",
    "MAX_CATEGORY_BINS_JSON",
    "MIN_STABLE_ROWS",
    "NULL_BIN",
    "Bins",
    "DriftConfig",
    "Populations",
    "TimeMatchedReference",
    "bin_categorical",
    "bin_numeric",
    "chi_square",
    "compare_feature",
    "compare_populations",
    "drift_of_run",
    "drift_status",
    "feature_drift",
    "importance_shares",
    "ks_test",
    "load_populations",
    "load_time_matched",
    "psi",
    "psi_contributions",
    "quantile_edges",
]
