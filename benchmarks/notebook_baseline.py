"""Plain-notebook baseline: leadscore's ranking of the newest leads against a notebook's.

``python -m benchmarks.notebook_baseline --raw DIR --db FILE [--as-of YYYY-MM-DD]`` prints the
ROC-AUC of three scorers on the same leads: a logistic regression and an XGBoost model as a
competent analyst would write them in a notebook, and leadscore's ``lead_scores`` of a
``dbt build`` run with var ``as_of`` = that date. It exists because real CRM exports with a
regime shift showed leadscore losing to such a notebook (generator ``--scenario b2c_shift``
makes data like them). Not part of the package or of ``make test``.

Protocol
--------
- **Data end**: the midnight after the latest ``leads.created_at`` (an export is cut at one
  moment; opportunity timestamps are not used, so a faulty one far in the future cannot move
  it). **as_of** must be at least ``window`` (90) days before the data end, so the outcomes of
  the newest leads are observable in the full data; default: data end - window.
- **Newest leads** (the evaluation set): leads created in ``[as_of - 28 days, as_of)`` that are
  open at as_of: no opportunity created before as_of. Label: an opportunity created in
  ``[as_of, as_of + window)``. (leadscore also leaves out leads disqualified before as_of; the
  number of newest leads found in ``lead_scores`` is reported.)
- **Notebook training set**: leads created before ``as_of - window`` (older leads), label = an
  opportunity created within ``window`` days of the lead's creation, ``[created_at,
  created_at + window)``; every such label is known at as_of. The notebook never sees a row
  created at or after ``as_of - window`` nor an opportunity at or after as_of.
- **Notebook features**: the static columns of ``leads`` only: lead_source, the firmographics
  that are present (country, industry, job_title: categorical; company_size: numeric; email is
  dropped as an identifier) and every other column as a custom attribute (numeric columns
  numeric, the rest categorical). No activity, status or opportunity feature. With
  ``calendar_features`` (off by default, ``--calendar-features``) also created_at's month and
  weekday, as categoricals. Categoricals: missing -> its own value, one-hot with
  ``handle_unknown='ignore'``; numerics: median-impute and standardise.
- **Notebook models**: sklearn ``LogisticRegression(max_iter=1000)`` and
  ``xgboost.XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.05)`` (otherwise
  library defaults, ``random_state=0``), both on the preprocessed features: what an analyst
  writes, untuned.
- **leadscore**: ``lead_scores`` (lead_id, conversion_probability) read from the DuckDB file
  (read-only); its ``as_of`` must equal the protocol's. ROC-AUC of conversion_probability on the
  newest leads that are in ``lead_scores`` (inner join). The notebook AUCs are reported on all
  newest leads and, when leadscore scored only part of them, on that part too.

ROC-AUC is sklearn's ``roc_auc_score``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from leadscore import duck

WINDOW_DAYS = 90
NEWEST_DAYS = 28
#: columns of leads that are never notebook features
NOT_FEATURES = ("lead_id", "created_at", "email")
FIRMOGRAPHIC_NUMERIC = ("company_size",)
MISSING = "__missing__"


@dataclass(frozen=True)
class RawData:
    """The two raw tables the protocol reads (timestamps as pandas datetimes)."""

    leads: pd.DataFrame
    opportunities: pd.DataFrame  # lead_id, created_at

    @property
    def data_end(self) -> datetime:
        """The midnight after the latest lead sign-up."""
        latest = self.leads.created_at.max()
        return datetime.combine(latest.date() + timedelta(days=1), datetime.min.time())


@dataclass(frozen=True)
class Protocol:
    as_of: datetime
    window_days: int = WINDOW_DAYS
    newest_days: int = NEWEST_DAYS
    calendar_features: bool = False

    @property
    def window(self) -> pd.Timedelta:
        return pd.Timedelta(days=self.window_days)

    @property
    def newest_from(self) -> datetime:
        return self.as_of - timedelta(days=self.newest_days)

    @property
    def train_before(self) -> datetime:
        return self.as_of - timedelta(days=self.window_days)


@dataclass(frozen=True)
class BaselineResult:
    """The three AUCs and what they were measured on."""

    as_of: datetime
    data_end: datetime
    window_days: int
    newest_days: int
    features: tuple[str, ...]
    n_train: int
    n_train_positives: int
    n_newest: int
    n_newest_positives: int
    logreg_auc: float
    xgboost_auc: float
    n_scored: int | None = None  # newest leads found in lead_scores (None: no database)
    n_scored_positives: int | None = None
    leadscore_auc: float | None = None
    logreg_auc_scored: float | None = None  # the notebook on the scored newest leads
    xgboost_auc_scored: float | None = None


def _read_table(raw_dir: Path, name: str) -> pd.DataFrame | None:
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = raw_dir / f"{name}{suffix}"
        if path.is_file():
            return reader(path)
    return None


def load_raw(raw_dir: str | Path) -> RawData:
    """leads and opportunities of a raw folder (``<table>.parquet`` or ``.csv``); absent
    opportunities mean none."""
    raw_dir = Path(raw_dir)
    leads = _read_table(raw_dir, "leads")
    if leads is None:
        raise FileNotFoundError(f"{raw_dir}/leads.parquet or leads.csv not found")
    leads = leads.copy()
    leads["created_at"] = pd.to_datetime(leads.created_at)
    leads = leads.dropna(subset=["lead_id", "created_at"]).drop_duplicates("lead_id")
    opps = _read_table(raw_dir, "opportunities")
    if opps is None:
        opps = pd.DataFrame({"lead_id": pd.Series(dtype=object), "created_at": []})
    opps = opps[["lead_id", "created_at"]].copy()
    opps["created_at"] = pd.to_datetime(opps.created_at)
    return RawData(leads.reset_index(drop=True), opps.dropna())


def default_as_of(raw: RawData, window_days: int = WINDOW_DAYS) -> datetime:
    """The latest allowed as_of: data end - window."""
    return raw.data_end - timedelta(days=window_days)


def check_as_of(raw: RawData, protocol: Protocol) -> None:
    latest = default_as_of(raw, protocol.window_days)
    if protocol.as_of > latest:
        raise ValueError(
            f"as_of {protocol.as_of:%Y-%m-%d} is less than {protocol.window_days} days before "
            f"the data end {raw.data_end:%Y-%m-%d}: the newest leads' outcomes are not all "
            f"observable; choose {latest:%Y-%m-%d} or earlier"
        )


def _first_opportunity(raw: RawData) -> pd.Series:
    return raw.opportunities.groupby("lead_id").created_at.min()


def newest_leads(raw: RawData, protocol: Protocol) -> pd.DataFrame:
    """The evaluation set: leads created in [as_of - newest_days, as_of), no opportunity before
    as_of; ``label`` = an opportunity in [as_of, as_of + window)."""
    leads = raw.leads
    opp = leads.lead_id.map(_first_opportunity(raw))
    as_of = pd.Timestamp(protocol.as_of)
    recent = (leads.created_at >= pd.Timestamp(protocol.newest_from)) & (leads.created_at < as_of)
    open_at = opp.isna() | (opp >= as_of)
    out = leads[recent & open_at].copy()
    out["label"] = (opp[recent & open_at] < as_of + protocol.window).astype(int)
    return out.reset_index(drop=True)


def training_leads(raw: RawData, protocol: Protocol) -> pd.DataFrame:
    """The notebook's training set: leads created before as_of - window; ``label`` = an
    opportunity in [created_at, created_at + window)."""
    leads = raw.leads
    old = leads[leads.created_at < pd.Timestamp(protocol.train_before)].copy()
    opp = old.lead_id.map(_first_opportunity(raw))
    old["label"] = ((opp >= old.created_at) & (opp < old.created_at + protocol.window)).astype(int)
    return old.reset_index(drop=True)


def feature_columns(leads: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(categorical, numeric) static columns of leads (see the protocol)."""
    categorical, numeric = [], []
    for column in leads.columns:
        if column in NOT_FEATURES or column == "label":
            continue
        is_number = pd.api.types.is_numeric_dtype(leads[column]) and not (
            pd.api.types.is_bool_dtype(leads[column])
        )
        if is_number or column in FIRMOGRAPHIC_NUMERIC:
            numeric.append(column)
        else:
            categorical.append(column)
    return categorical, numeric


def _frame(leads: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """The feature frame: categoricals as strings (missing -> its own value)."""
    categorical, numeric = feature_columns(leads)
    out = pd.DataFrame(index=leads.index)
    for column in categorical:
        values = leads[column].astype(object)
        out[column] = values.where(values.notna(), MISSING).astype(str)
    for column in numeric:
        out[column] = pd.to_numeric(leads[column], errors="coerce").astype(float)
    if protocol.calendar_features:
        out["created_month"] = leads.created_at.dt.month.astype(str)
        out["created_weekday"] = leads.created_at.dt.day_of_week.astype(str)
    return out


def _preprocessor(frame: pd.DataFrame) -> ColumnTransformer:
    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in frame.columns if c not in categorical]
    return ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric,
            ),
        ]
    )


def notebook_models(frame: pd.DataFrame) -> dict[str, Pipeline]:
    """The two notebook pipelines, unfitted."""
    return {
        "logreg": make_pipeline(_preprocessor(frame), LogisticRegression(max_iter=1000)),
        "xgboost": make_pipeline(
            _preprocessor(frame),
            XGBClassifier(
                n_estimators=300,
                max_depth=4,
                learning_rate=0.05,
                random_state=0,
                n_jobs=2,
            ),
        ),
    }


def notebook_scores(
    train: pd.DataFrame, newest: pd.DataFrame, protocol: Protocol
) -> dict[str, np.ndarray]:
    """Each notebook model fitted on the training set, its probabilities for the newest leads."""
    if train.label.nunique() < 2:
        raise ValueError(
            f"the notebook training set ({len(train)} leads created before "
            f"{protocol.train_before:%Y-%m-%d}) has only one label; choose a later as_of"
        )
    x_train = _frame(train, protocol)
    x_newest = _frame(newest, protocol)[x_train.columns]
    scores = {}
    for name, model in notebook_models(x_train).items():
        model.fit(x_train, train.label)
        scores[name] = model.predict_proba(x_newest)[:, 1]
    return scores


def leadscore_scores(db_path: str | Path, as_of: datetime) -> pd.DataFrame:
    """lead_id, conversion_probability of lead_scores (read-only); its as_of must be as_of."""
    con = duck.connect(db_path, read_only=True)
    try:
        scores = con.execute("select lead_id, as_of, conversion_probability from lead_scores").df()
    finally:
        con.close()
    built = set(pd.to_datetime(scores.as_of).dropna().unique())
    if built and built != {pd.Timestamp(as_of)}:
        found = ", ".join(sorted(f"{t:%Y-%m-%d %H:%M}" for t in built))
        raise ValueError(
            f"lead_scores in {db_path} is as of {found}, not {as_of:%Y-%m-%d}; build with "
            f"--vars '{{as_of: {as_of:%Y-%m-%d}}}' (and the same custom-attribute vars)"
        )
    return scores[["lead_id", "conversion_probability"]]


def _auc(labels: pd.Series | np.ndarray, scores: pd.Series | np.ndarray) -> float:
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, np.asarray(scores)))


def evaluate(raw: RawData, protocol: Protocol, db_path: str | Path | None = None) -> BaselineResult:
    """The protocol of the module docstring on one raw data set (and one leadscore build)."""
    check_as_of(raw, protocol)
    newest = newest_leads(raw, protocol)
    train = training_leads(raw, protocol)
    if newest.empty:
        raise ValueError(
            f"no open leads created in [{protocol.newest_from:%Y-%m-%d}, "
            f"{protocol.as_of:%Y-%m-%d}); choose another as_of"
        )
    scores = notebook_scores(train, newest, protocol)
    result = {
        "as_of": protocol.as_of,
        "data_end": raw.data_end,
        "window_days": protocol.window_days,
        "newest_days": protocol.newest_days,
        "features": tuple(_frame(train.head(1), protocol).columns),
        "n_train": len(train),
        "n_train_positives": int(train.label.sum()),
        "n_newest": len(newest),
        "n_newest_positives": int(newest.label.sum()),
        "logreg_auc": _auc(newest.label, scores["logreg"]),
        "xgboost_auc": _auc(newest.label, scores["xgboost"]),
    }
    if db_path is not None:
        scored = newest[["lead_id", "label"]].assign(
            logreg=scores["logreg"], xgboost=scores["xgboost"]
        )
        scored = scored.merge(leadscore_scores(db_path, protocol.as_of), on="lead_id")
        result |= {
            "n_scored": len(scored),
            "n_scored_positives": int(scored.label.sum()),
            "leadscore_auc": _auc(scored.label, scored.conversion_probability),
            "logreg_auc_scored": _auc(scored.label, scored.logreg),
            "xgboost_auc_scored": _auc(scored.label, scored.xgboost),
        }
    return BaselineResult(**result)


def format_table(result: BaselineResult) -> str:
    """A small text table of a result."""
    r = result
    lines = [
        f"as_of {r.as_of:%Y-%m-%d} (data end {r.data_end:%Y-%m-%d}, window {r.window_days} d)",
        f"notebook training: {r.n_train:,} leads created before "
        f"{r.as_of - timedelta(days=r.window_days):%Y-%m-%d}, {r.n_train_positives:,} positives; "
        f"features: {', '.join(r.features)}",
        f"newest leads: {r.n_newest:,} created in the {r.newest_days} days before as_of and open "
        f"at it, {r.n_newest_positives:,} positives",
        "",
        f"{'scorer':<28}{'ROC-AUC':>8}{'leads':>8}{'positives':>11}",
    ]

    def row(name: str, auc: float | None, n: int | None, pos: int | None) -> str:
        text = "-" if auc is None else f"{auc:.3f}"
        return f"{name:<28}{text:>8}{n if n is not None else '-':>8}{pos or 0:>11}"

    lines.append(row("notebook logistic regr.", r.logreg_auc, r.n_newest, r.n_newest_positives))
    lines.append(row("notebook XGBoost", r.xgboost_auc, r.n_newest, r.n_newest_positives))
    if r.n_scored is not None:
        if r.n_scored != r.n_newest:
            n, pos = r.n_scored, r.n_scored_positives
            lines.append(row("  logistic regr. (scored)", r.logreg_auc_scored, n, pos))
            lines.append(row("  XGBoost (scored)", r.xgboost_auc_scored, n, pos))
        lines.append(
            row("leadscore lead_scores", r.leadscore_auc, r.n_scored, r.n_scored_positives)
        )
    return "\n".join(lines)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.notebook_baseline",
        description="ROC-AUC of a plain-notebook baseline and of leadscore's lead_scores on "
        "the newest open leads (protocol: the module docstring).",
    )
    parser.add_argument("--raw", required=True, help="raw CRM folder (leads, opportunities)")
    parser.add_argument("--db", help="DuckDB file of a dbt build with var as_of = --as-of")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="scoring date (default: data end - window)",
    )
    parser.add_argument("--window", type=int, default=WINDOW_DAYS, help="label window, days")
    parser.add_argument(
        "--newest-days", type=int, default=NEWEST_DAYS, help="newest leads: created this many "
        "days before as_of"
    )  # fmt: skip
    parser.add_argument(
        "--calendar-features",
        action="store_true",
        help="notebook also uses created_at month and weekday",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    raw = load_raw(args.raw)
    as_of = (
        default_as_of(raw, args.window)
        if args.as_of is None
        else datetime.combine(args.as_of, datetime.min.time())
    )
    protocol = Protocol(as_of, args.window, args.newest_days, args.calendar_features)
    try:
        result = evaluate(raw, protocol, args.db)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
