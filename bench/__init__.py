"""Benchmarks with budgets: ``make bench`` (``python -m bench``) prints figures and ratios."""
