"""Make Your Number: the pure domain core (no UI imports).

Modules: ``ingest`` (files → canonical tables), ``uploads`` (the upload pipeline and its working
state), ``dataset`` (the session's DuckDB data), ``funnel`` and ``planner`` (conversion and
reverse funnel), ``quadrant`` (reps), ``questionnaire`` (make-your-number score), ``leadership``
(model fit), ``workshop`` (multi-person sessions), ``report`` (printable reports), ``export``
(safe CSV/Excel), ``memory`` (process-wide allocator choice, made at start-up), ``cli``
(headless interface).

Importing this package changes no process-wide setting: start-up code calls
:func:`diagnostics.memory.use_system_allocator` itself.
"""
