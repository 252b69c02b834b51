"""Make Your Number: the pure domain core (no UI imports).

Modules: ``ingest`` (files → canonical tables), ``dataset`` (the session's DuckDB data),
``funnel`` and ``planner`` (conversion and reverse funnel), ``quadrant`` (reps), ``questionnaire``
(make-your-number score), ``leadership`` (model fit), ``workshop`` (multi-person sessions),
``report`` (printable reports), ``export`` (safe CSV/Excel), ``cli`` (headless interface).
"""

import os as _os

import pyarrow as _pa

if "ARROW_DEFAULT_MEMORY_POOL" not in _os.environ:  # an explicit choice wins
    # The system allocator hands a large upload's working memory back as soon as it is freed;
    # Arrow's default (mimalloc) keeps it, which here left a 1M-row upload holding about 4× its
    # size and made the first read of a large file up to twice as slow, at random.
    _pa.set_memory_pool(_pa.system_memory_pool())
