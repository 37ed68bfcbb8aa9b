"""leadscore.settings: the one reader of the environment."""

from __future__ import annotations

from pathlib import Path

from leadscore.settings import environment


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
