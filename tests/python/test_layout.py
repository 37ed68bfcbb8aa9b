"""The shape of the project: each layer one folder, dbt Python models as thin as the SQL."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODEL_LINES = 15  # the whole file, docstring and imports included


def _python_models() -> list[Path]:
    return sorted((ROOT / "models").rglob("*.py"))


def test_every_python_model_reads_refs_makes_one_call_and_returns_within_15_lines():
    assert _python_models(), "no dbt Python model found under models/"
    too_long = {}
    for path in _python_models():
        tree = ast.parse(path.read_text())
        (model,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "model"]
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODEL_LINES:
            too_long[str(path.relative_to(ROOT))] = lines
        # nothing but the model function (and imports, the docstring) at the top level
        others = [
            n
            for n in tree.body
            if not isinstance(n, ast.Import | ast.ImportFrom | ast.FunctionDef)
            and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        ]
        assert not others, f"{path.name}: top-level code besides model(): move it to leadscore"
        calls = [n for n in ast.walk(model) if isinstance(n, ast.Return)]
        assert len(calls) == 1, f"{path.name}: one return (the call into leadscore)"
    assert not too_long, f"dbt Python models over {MAX_MODEL_LINES} lines: {too_long}"


def test_python_models_live_beside_the_sql_of_their_layer():
    assert not (ROOT / "python_models").exists()
    for path in _python_models():
        layer = path.parent
        assert any(layer.glob("*.yml")), f"{layer.name}/ has no yml for {path.name}"


def test_each_layer_folder_has_one_models_yml_and_at_most_one_unit_tests_yml():
    folders = {p.parent for p in (ROOT / "models").rglob("*.sql")} | {
        p.parent for p in _python_models()
    }
    for folder in sorted(folders):
        ymls = sorted(p.name for p in folder.glob("*.yml"))
        models = [y for y in ymls if not y.endswith(("__unit_tests.yml", "__sources.yml"))]
        tests = [y for y in ymls if y.endswith("__unit_tests.yml")]
        where = folder.relative_to(ROOT)
        if not ymls and any(folder.parent.glob("_*.yml")):
            continue  # a sub-folder (staging/crm/base) described by its folder's yml
        assert len(models) == 1, f"{where}: one yml for its models, found {models}"
        assert len(tests) <= 1, f"{where}: one yml for its unit tests, found {tests}"
