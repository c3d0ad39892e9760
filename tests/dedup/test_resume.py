"""MinHash signatures resume at the first unfinished batch after a killed run."""

import numpy as np
import pytest

import datadiet.dedup._minhash as mh
from datadiet.dedup import minhash_signal
from tests.killed import KilledOnCall


def test_killed_signature_run_resumes_where_it_stopped(bbc, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    data = tmp_path / "bbc.parquet"
    pq.write_table(bbc, data)
    fresh, fresh_cnt = minhash_signal(data, "text", cache=False, batch_size=500, num_perm=64)
    killed = KilledOnCall(mh.minhash_signatures, at=3)  # dies on the third batch
    monkeypatch.setattr(mh, "minhash_signatures", killed)
    with pytest.raises(KeyboardInterrupt):
        minhash_signal(data, "text", batch_size=500, num_perm=64, cache_root=tmp_path / "cache")
    parts = list((tmp_path / "cache").rglob("part-*.npz"))
    assert len(parts) == 2  # two finished batches were kept
    killed.calls = -100  # no more failures; count what is recomputed
    sig, cnt = minhash_signal(data, "text", batch_size=500, num_perm=64, cache_root=tmp_path / "cache")
    assert killed.calls == -100 + 3  # 5 batches of 2,225 rows: only the last 3 are computed again
    np.testing.assert_array_equal(sig, fresh)
    np.testing.assert_array_equal(cnt, fresh_cnt)
    assert not list((tmp_path / "cache").rglob("part-*.npz"))  # parts removed once the signal is whole
