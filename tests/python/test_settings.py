"""leadscore.settings: the one reader of the environment and the one table of vars."""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from leadscore import settings
from leadscore.config import TrainingConfig
from leadscore.drift import DriftConfig
from leadscore.registry import RegistryPolicy
from leadscore.segmentation import SegmentationConfig
from leadscore.serve.config import OnlineSettings
from leadscore.settings import DBT_VARS, SETTINGS, environment, validate, vars_of

ROOT = Path(__file__).resolve().parents[2]
CONFIG_CLASSES = {
    cls.__name__: cls
    for cls in (TrainingConfig, RegistryPolicy, DriftConfig, SegmentationConfig, OnlineSettings)
}


def _project_vars() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def _as_table_value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def test_environment_reads_the_leadscore_variables_and_falls_back_to_the_defaults():
    env = environment({"LEADSCORE_DB": "/tmp/x.duckdb", "LEADSCORE_EXPORT_DIR": ""})
    assert env.db == Path("/tmp/x.duckdb")
    assert env.export_dir == Path("exports")  # empty counts as unset
    assert env.raw_dir == Path("data/raw")
    assert env.memory_limit == "6GB"


def test_no_other_module_reads_the_environment():
    root = Path(__file__).resolve().parents[2]
    readers = [
        str(path.relative_to(root))
        for folder in ("leadscore", "benchmarks")
        for path in (root / folder).rglob("*.py")
        if any(read in path.read_text() for read in ("environ.get(", "environ[", "getenv("))
    ]
    assert readers == []  # settings.environment() reads through a Mapping it is given


# --- the table ---------------------------------------------------------------------------------


def test_dbt_project_vars_are_the_table_in_its_order_with_its_defaults():
    project = _project_vars()
    assert list(project) == list(DBT_VARS)
    differ = {
        name: (value, SETTINGS[name].default)
        for name, value in project.items()
        if _as_table_value(value) != SETTINGS[name].default
    }
    assert differ == {}


def test_every_default_and_example_passes_its_own_validation():
    for s in SETTINGS.values():
        assert validate(s.name, s.default) == s.default, s.name
        if s.example:
            validate(s.name, _as_table_value(yaml.safe_load(s.example)))


def test_config_objects_default_to_what_dbt_users_get():
    project = _project_vars()
    for cls in CONFIG_CLASSES.values():
        config = cls()
        for f in fields(cls):
            name = f.metadata["setting"]
            if SETTINGS[name].dbt_var:
                assert getattr(config, f.name) == _as_table_value(project[name]), name
    # the two defaults that used to disagree: dbt_project.yml won
    assert TrainingConfig().min_training_conversions == 100
    assert TrainingConfig().search_budget_seconds == 60


def test_validate_coerces_what_dbt_and_yaml_hand_over():
    assert validate("conversion_window_days", "30") == 30
    assert validate("conversion_window_days", 30.0) == 30
    assert validate("drift_psi_watch", "0.2") == 0.2
    assert validate("force_retrain", "true") is True
    assert validate("exclude_features", "country, created_hour") == ("country", "created_hour")
    assert validate("segment_k_range", 4) == (4, 4)
    assert validate("pinned_model_version", "None") is None
    assert validate("max_training_leads", None) is None
    assert validate("as_of", "2026-01-01T10:00") == "2026-01-01 10:00"


@pytest.mark.parametrize(
    ("name", "value", "phrase"),
    [
        ("conversion_window_days", 0, "var conversion_window_days must be >= 1, got 0"),
        ("conversion_window_days", None, "must be a whole number, got None"),
        ("segment_reset_ids", "yes", "var segment_reset_ids must be true or false, got 'yes'"),
        ("champion_tolerance", 1, "must be in [0, 1), got 1"),
        ("crm_source_mode", "s3", "var crm_source_mode must be one of files | tables"),
        ("crm_schema", "raw; drop", "must be a column or schema name, got 'raw; drop'"),
        ("lead_numeric_attributes", ["a b"], "must be a list of distinct column names"),
        ("as_of", "yesterday", "var as_of must be a date YYYY-MM-DD"),
    ],
)
def test_a_bad_value_names_the_var_the_value_and_the_fix(name, value, phrase):
    with pytest.raises(ValueError) as err:
        validate(name, value)
    assert phrase in str(err.value)
    assert f"with --vars '{{{name}: " in str(err.value)


def test_an_unknown_setting_is_named():
    with pytest.raises(KeyError, match="conversion_windw_days is not a leadscore setting"):
        validate("conversion_windw_days", 1)


# --- generated files -----------------------------------------------------------------------------


def test_the_generated_macro_and_docs_are_current():
    stale = [
        str(path)
        for path, text in settings.generated_files().items()
        if not (ROOT / path).exists() or (ROOT / path).read_text() != text
    ]
    assert stale == [], "run: .venv/bin/python -m leadscore.settings"


def test_docs_list_every_setting_under_its_group():
    docs = (ROOT / "docs" / "vars.md").read_text()
    for s in SETTINGS.values():
        section = docs.split(f"## {settings.GROUPS[s.group]}\n", 1)[1].split("\n## ", 1)[0]
        assert f"| `{s.name}` |" in section, s.name


# --- every reader goes through the table ---------------------------------------------------------

SQL_FOLDERS = ("models", "macros", "tests/singular", "analyses")
GENERATED_MACRO = ROOT / settings.MACRO_PATH


def _sql_files() -> list[Path]:
    return [
        p for folder in SQL_FOLDERS for p in (ROOT / folder).rglob("*.sql") if p != GENERATED_MACRO
    ]


def test_sql_and_macros_read_vars_only_through_leadscore_var():
    raw = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in _sql_files()
        for m in re.finditer(r"(?<![\w.])var\([^)]*\)", p.read_text())
    ]
    assert raw == []
    named = {
        m.group(1)
        for p in [*_sql_files(), *(ROOT / "models").rglob("*.yml")]
        for m in re.finditer(r"leadscore_var\('(\w+)'\)", p.read_text())
    }
    assert named - set(DBT_VARS) == set()


def test_yml_reads_vars_by_name_without_a_second_default():
    calls = [
        (str(p.relative_to(ROOT)), m.group(1))
        for p in (ROOT / "models").rglob("*.yml")
        for m in re.finditer(r"(?<![\w.])var\(([^)]*)\)", p.read_text())
    ]
    assert calls
    bad = [(path, args) for path, args in calls if not re.fullmatch(r"'(\w+)'", args)]
    assert bad == []  # var('x', default) would be a second default
    unknown = [(path, args) for path, args in calls if args.strip("'") not in DBT_VARS]
    assert unknown == []


def _model_configs() -> dict[str, dict[str, Any]]:
    configs: dict[str, dict[str, Any]] = {}
    for path in (ROOT / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            configs[model["name"]] = model.get("config", {})
    return configs


def _called_source(model_source: str) -> str:
    """The source of the leadscore functions a dbt Python model imports (and the functions of
    the package they call by name, one level down)."""
    out = []
    for module, names in re.findall(r"from (leadscore[\w.]*) import ([\w, ]+)", model_source):
        mod = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            text = inspect.getsource(getattr(mod, name))
            out.append(text)
            for callee in re.findall(r"(\w+)\(", text):
                target = getattr(mod, callee, None)
                if inspect.isfunction(target) and target.__module__.startswith("leadscore"):
                    out.append(inspect.getsource(target))
    return "\n".join(out)


def test_python_models_are_passed_every_var_their_config_objects_read():
    configs = _model_configs()
    checked = 0
    for path in (ROOT / "models").rglob("*.py"):
        source = path.read_text()
        keys = re.findall(r"dbt\.config\.get\(\"(\w+)\"\)", source)
        # the model's one call into leadscore: the config objects it builds and the vars it
        # reads from the mapping it is given
        called = _called_source(source)
        classes = re.findall(r"(\w+)\.from_vars\(", source + called)
        read = set(re.findall(r"model_vars\[\"(\w+)\"\]", called))
        assert set(classes) <= set(CONFIG_CLASSES), f"{path.name}: add it to CONFIG_CLASSES"
        config = configs.get(path.stem, {})
        passed: dict[str, Any] = {}
        for key in keys:
            value = config.get(key)
            passed.update(value if isinstance(value, dict) else {key: value})
        needed = (
            {
                name
                for cls in classes
                for name in vars_of(CONFIG_CLASSES[cls])
                if SETTINGS[name].dbt_var
            }
            | {key for key in keys if key in SETTINGS}
            | read
        )
        missing = needed - {k for k, v in passed.items() if v is not None}
        assert missing == set(), f"{path.stem}'s yml config does not pass {sorted(missing)}"
        wrong = {k: v for k, v in passed.items() if k in SETTINGS and v != f"{{{{ var('{k}') }}}}"}
        assert wrong == {}, f"{path.stem}: pass a var as \"{{{{ var('<name>') }}}}\""
        checked += bool(needed)
    assert checked >= 6  # model_registry, feature_drift, the three segmentation models, ...
