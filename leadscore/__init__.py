"""leadscore: the Python side of an in-warehouse lead-scoring dbt project.

All ML and statistics logic lives here, unit-tested without dbt; the dbt Python models in
``models/<layer>/*.py`` are thin adapters that read their refs and call into this package.
"""

__version__ = "0.1.0"
