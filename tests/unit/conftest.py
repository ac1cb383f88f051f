"""Unit-test settings: hypothesis runs a fixed, modest set of examples so the suite is fast and repeatable.

``HYPOTHESIS_PROFILE=explore`` runs many random examples instead (locally, when hunting for bugs).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", max_examples=3000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
