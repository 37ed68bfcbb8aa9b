"""The one home of leadscore's settings: the table of dbt vars, and the environment.

``SETTINGS`` declares every dbt var of the project once (after scikit-learn's
``utils/_param_validation``): its kind, bounds or choices, default, an example and a one-line
doc, grouped like the ``vars:`` block of ``dbt_project.yml``. ``validate(name, value)`` is the
one function that checks and coerces a value; its errors name the var, the bad value and the
fix. Every config object (``TrainingConfig``, ``RegistryPolicy``, ``DriftConfig``,
``SegmentationConfig``) declares its fields with ``setting_field`` (default from the table)
and builds through ``from_vars``; a few package knobs that are not dbt vars (``seed``,
``n_time_folds`` …, ``dbt_var=False``) are validated by the same table.

Generated from the table (``python -m leadscore.settings`` writes both, ``--check`` tells
whether they are current; ``tests/python/test_settings.py`` fails when they are not):

- ``macros/settings.sql``: the Jinja side, macro ``leadscore_var(name)`` =
  ``var(name, <table default>)`` validated by the same kind, bounds and choices (one compiler
  error that names the var, the value and the fix). SQL, macros and yml data tests read vars
  only through it. It returns typed values: numbers, booleans, identifiers matching
  ``[A-Za-z_][A-Za-z0-9_]*``, choices, and a validated timestamp text; the only free texts
  (``placeholder_values``, ``pinned_model_version``) are returned as data and must be quoted
  by their caller, never pasted into SQL raw.
- ``docs/vars.md``: the user's reference, one table per group.

Decision: ``dbt_project.yml`` keeps its ``vars:`` block as the user-facing list (dbt needs it:
the ``leadscore_vars`` / ``drift_vars`` config blocks in properties yml are rendered where no
macro exists, with plain ``var('x')``, which must find the var there). Its names and values
must equal this table, and every config block must pass exactly the vars its config object
reads as ``"{{ var('<name>') }}"`` (tests/python/test_settings.py checks both), so no var can
be missing or carry a second default. Where the old defaults disagreed, dbt_project.yml won
(it is what users got): ``min_training_conversions`` 100, ``search_budget_seconds`` 60.

``environment()`` is the only place in the package that reads environment variables; every
command line and benchmark asks it for the folders and limits the build uses (the dbt side
reads the same variables with ``env_var`` in ``profiles.yml`` and the source contract, with
the same defaults).
"""

from __future__ import annotations

from leadscore.settings.environment import (
    ENVIRONMENT_DEFAULTS,
    Environment,
    environment,
)
from leadscore.settings.generate import (
    DOCS_PATH,
    GENERATED,
    MACRO_PATH,
    MACRO_TEMPLATE,
    ROOT,
    generated_files,
    jinja_literal,
    main,
    render_docs,
    render_macro,
)
from leadscore.settings.table import (
    DBT_VARS,
    GROUPS,
    IDENTIFIER,
    KINDS,
    LIST_KINDS,
    MODEL_TYPES,
    NULL_TEXTS,
    SETTINGS,
    SETTINGS_LIST,
    TIMESTAMP,
    Setting,
    default,
    setting,
    yaml_value,
)
from leadscore.settings.validation import (
    _CHECKS,
    C,
    check_fields,
    from_vars,
    setting_field,
    validate,
    vars_of,
)

__all__ = [
    "DBT_VARS",
    "DOCS_PATH",
    "ENVIRONMENT_DEFAULTS",
    "GENERATED",
    "GROUPS",
    "IDENTIFIER",
    "KINDS",
    "LIST_KINDS",
    "MACRO_PATH",
    "MACRO_TEMPLATE",
    "MODEL_TYPES",
    "NULL_TEXTS",
    "ROOT",
    "SETTINGS",
    "SETTINGS_LIST",
    "TIMESTAMP",
    "_CHECKS",
    "C",
    "Environment",
    "Setting",
    "check_fields",
    "default",
    "environment",
    "from_vars",
    "generated_files",
    "jinja_literal",
    "main",
    "render_docs",
    "render_macro",
    "setting",
    "setting_field",
    "validate",
    "vars_of",
    "yaml_value",
]
