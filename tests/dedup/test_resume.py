"""MinHash signatures resume at the first unfinished batch after a killed run."""

import numpy as np
import pytest

import datadiet.dedup._minhash as mh
from datadiet.dedup import minhash_signal


def test_killed_signature_run_resumes_where_it_stopped(bbc, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    data = tmp_path / "bbc.parquet"
    pq.write_table(bbc, data)
    fresh, fresh_cnt = minhash_signal(data, "text", cache=False, batch_size=500, num_perm=64)
    real = mh.minhash_signatures
    calls = {"n": 0}

    def dies_on_the_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the run is killed here
        return real(*args, **kwargs)

    monkeypatch.setattr(mh, "minhash_signatures", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        minhash_signal(data, "text", batch_size=500, num_perm=64, cache_root=tmp_path / "cache")
    parts = list((tmp_path / "cache").rglob("part-*.npz"))
    assert len(parts) == 2  # two finished batches were kept
    calls["n"] = -100  # no more failures; count what is recomputed
    sig, cnt = minhash_signal(data, "text", batch_size=500, num_perm=64, cache_root=tmp_path / "cache")
    assert calls["n"] == -100 + 3  # 5 batches of 2,225 rows: only the last 3 are computed again
    np.testing.assert_array_equal(sig, fresh)
    np.testing.assert_array_equal(cnt, fresh_cnt)
    assert not list((tmp_path / "cache").rglob("part-*.npz"))  # parts removed once the signal is whole
