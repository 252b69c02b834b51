"""Make Your Number: the pure domain core (no UI imports).

Modules: ``ingest`` (files → canonical tables), ``dataset`` (the session's DuckDB data),
``funnel`` and ``planner`` (conversion and reverse funnel), ``quadrant`` (reps), ``questionnaire``
(make-your-number score), ``leadership`` (model fit), ``workshop`` (multi-person sessions),
``report`` (printable reports), ``export`` (safe CSV/Excel), ``cli`` (headless interface).
"""
