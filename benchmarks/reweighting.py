"""The lead-weighting experiment behind var training_weights (DECISIONS.md).

On a built DuckDB file: fits logistic regression (C = 1) and XGBoost (depth 3, 200 rounds) on
every matured row before the test window, as the reported refit does, once unweighted and
once with every lead weighing the same (leadscore.training.training_weights), and prints the
test ROC-AUC per population (leadscore.populations).

    python -m benchmarks.reweighting --db leadscore.duckdb
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xgboost as xgb
from sklearn.linear_model import LogisticRegression

from leadscore import duck
from leadscore import metrics as m
from leadscore import populations as pops
from leadscore.preprocess import FeatureSpec, fit_preprocessor
from leadscore.training import training_weights

BEFORE_TEST = """
    select * from training_snapshots
    where split in ('train', 'valid', 'purged')
        and snapshot_at + to_days(?) <= (select min(snapshot_at) from training_snapshots
                                         where split = 'test')
    order by snapshot_at, lead_id
"""
TEST = "select * from training_snapshots where split = 'test' order by snapshot_at, lead_id"


def _labels(table: pa.Table) -> np.ndarray:
    return pc.cast(table.column("is_converted"), pa.float64()).to_numpy()


def experiment(db: str, window_days: int = 90) -> list[tuple[str, str, dict[str, float]]]:
    con = duck.connect(db, read_only=True)
    try:
        fit = con.sql(BEFORE_TEST, params=[window_days]).to_arrow_table()
        test = con.sql(TEST).to_arrow_table()
    finally:
        con.close()
    y, y_test = _labels(fit), _labels(test)
    masks = pops.population_masks(test)
    spec = FeatureSpec.from_schema(fit.schema)
    out = []
    for mode in ("linear", "tree"):
        pre = fit_preprocessor(fit, spec, mode, 20, 50)
        x, x_test = pre.transform(fit).matrix, pre.transform(test).matrix
        for scheme in ("row", "lead"):
            w = training_weights(fit, scheme)
            if mode == "linear":
                model = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=2000)
                score = model.fit(x, y, sample_weight=w).decision_function(x_test)
            else:
                params = {
                    "objective": "binary:logistic",
                    "max_depth": 3,
                    "eta": 0.1,
                    "min_child_weight": 5,
                    "subsample": 0.8,
                    "nthread": 1,
                    "seed": 42,
                    "verbosity": 0,
                }
                booster = xgb.train(params, xgb.DMatrix(x, label=y, weight=w, missing=np.nan), 200)
                score = booster.predict(xgb.DMatrix(x_test, missing=np.nan), output_margin=True)
            auc = {
                name: round(float(m.roc_auc(y_test[k], score[k])), 4)
                for name, k in masks.items()
                if 0 < y_test[k].sum() < k.sum()
            }
            out.append(("logistic_regression" if mode == "linear" else "xgboost", scheme, auc))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a built leadscore DuckDB file")
    parser.add_argument("--window-days", type=int, default=90, help="conversion_window_days")
    args = parser.parse_args(argv)
    for model, scheme, auc in experiment(args.db, args.window_days):
        print(f"{model:<20} {scheme:<5} " + "  ".join(f"{k} {v:.4f}" for k, v in auc.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
