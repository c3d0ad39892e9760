import os

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Timings on a loaded 2-core machine vary too much for per-example deadlines.
settings.register_profile("datadiet", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("datadiet")


@pytest.fixture(scope="session")
def bbc():
    from datadiet._testing import bbc_news

    return bbc_news()


@pytest.fixture(scope="session")
def rt():
    from datadiet._testing import rotten_tomatoes

    return rotten_tomatoes()


@pytest.fixture
def bbc_jsonl(bbc, tmp_path):
    from datadiet._testing import write_jsonl

    return write_jsonl(bbc, tmp_path / "bbc.jsonl")
