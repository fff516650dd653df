import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "convt", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "convt"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "heavy: a slow test against a real framework, runtime or browser; run with CONVT_HEAVY=1 "
        "(the default run keeps an unmarked sample of each)",
    )


def pytest_collection_modifyitems(config, items):
    import pytest

    if os.environ.get("CONVT_HEAVY") == "1":
        return
    skip = pytest.mark.skip(reason="heavy: set CONVT_HEAVY=1 to run the whole real-framework set")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)
