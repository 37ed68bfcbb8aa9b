"""The demo: a synthetic CRM generator, the scoring backfill and the terminal summary.

Not library code: nothing in the pipeline imports it.
"""
