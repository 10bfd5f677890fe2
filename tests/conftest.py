"""pytest configuration.

Hypothesis runs derandomized by default so the suite gives the same verdict on every run
(main stays green or red for a reason); `HYPOTHESIS_PROFILE=explore` searches afresh.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
