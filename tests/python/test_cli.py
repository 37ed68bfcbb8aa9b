"""The console script ``leadscore <verb>`` and the ``python -m`` shims it sits beside."""

from __future__ import annotations

import subprocess
import sys

import pytest

from leadscore import cli


def test_each_verb_runs_its_modules_main_with_the_remaining_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["summary", "--help"])
    assert exit_.value.code == 0
    assert "--db" in capsys.readouterr().out


def test_an_unknown_or_missing_verb_lists_the_verbs_and_fails(capsys):
    assert cli.main(["serve-all"]) == 2
    err = capsys.readouterr().err
    assert "unknown verb 'serve-all'" in err
    assert all(verb in err for verb in ("generate", "backfill", "report", "summary"))
    assert cli.main([]) == 2


SHIMS = ["leadscore.generate", "leadscore.backfill", "leadscore.summary", "leadscore.report"]


@pytest.mark.parametrize("module", SHIMS)
def test_the_old_module_command_lines_still_work(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
