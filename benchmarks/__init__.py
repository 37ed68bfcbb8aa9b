"""The leadscore benchmark harness (``python -m benchmarks.run``; ``make bench``).

Not part of the package or of ``make test``: it generates large data sets under
``data/bench/<n>/``, measures full and daily ``dbt build`` runs, the feature layer against a
pandas implementation and a one-scan floor, and scoring against raw XGBoost, and writes
``BENCHMARKS.md``.
"""
