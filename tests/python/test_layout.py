"""The shape of the project: each layer one folder, dbt Python models as thin as the SQL."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_MODEL_LINES = 15


def _python_models() -> list[Path]:
    return sorted((ROOT / "models").rglob("*.py"))


def test_every_python_model_reads_refs_makes_one_call_and_returns_within_15_lines():
    assert _python_models(), "no dbt Python model found under models/"
    too_long = {}
    for path in _python_models():
        tree = ast.parse(path.read_text())
        (model,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "model"]
        lines = model.end_lineno - model.lineno + 1
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
