"""TrainingConfig: defaults, dbt vars, validation messages."""

from __future__ import annotations

import pytest

from leadscore.config import TrainingConfig


def test_from_vars_reads_known_vars_and_ignores_the_rest():
    cfg = TrainingConfig.from_vars(
        {
            "as_of": "2026-01-01",  # another project var: ignored
            "search_budget_seconds": 120,
            "exclude_features": ["country", "created_hour"],
            "model_types": "xgboost",
            "calibration": "platt",
            "min_training_conversions": None,  # null keeps the default
        }
    )
    assert cfg.search_budget_seconds == 120
    assert cfg.exclude_features == ("country", "created_hour")
    assert cfg.model_types == ("xgboost",)
    assert cfg.calibration == "platt"
    assert cfg.min_training_conversions == TrainingConfig().min_training_conversions


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("n_time_folds", 0, "n_time_folds must be between 1 and 20"),
        ("min_training_conversions", "ten", "min_training_conversions must be a whole number"),
        ("seed", True, "seed must be a whole number"),
        ("search_budget_seconds", -1, "search_budget_seconds must be a number of seconds"),
        ("calibration", "sigmoid", "calibration must be one of auto | isotonic | platt"),
        ("selection_metric", "accuracy", "selection_metric must be one of"),
        ("model_types", ["random_forest"], "model_types must be a non-empty list"),
        ("precision_at_k_fraction", 1.5, "precision_at_k_fraction must be a fraction"),
        ("class_weight_variants", "yes", "class_weight_variants must be true or false"),
    ],
)
def test_bad_vars_name_the_var_and_the_fix(var, value, message):
    with pytest.raises(ValueError, match=message) as err:
        TrainingConfig.from_vars({var: value})
    assert f"--vars '{{{var}:" in str(err.value)


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        TrainingConfig().seed = 1  # type: ignore[misc]
