"""Streamed exact + near dedup (keys spilled to partitions) gives what the in-memory fit gives, and resumes."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import datadiet.engine._dedup_spill as ds
from datadiet.cli import cli
from datadiet.dedup import Dedup, NearDedup
from datadiet.dedup._lsh import band_buckets, band_keys, band_links, group_links
from datadiet.dedup._minhash import minhash_signatures
from datadiet.engine import dedup_streamed, load_signals
from datadiet.io import open_source
from datadiet.signals import Columns
from tests.killed import KilledOnCall


def shards(table, folder, parts):
    folder.mkdir(parents=True, exist_ok=True)
    for i, idx in enumerate(np.array_split(np.arange(table.num_rows), parts)):
        pq.write_table(table.take(pa.array(idx)), folder / f"p{i}.parquet")
    return open_source(folder)


@pytest.fixture
def bbc_nulls(bbc, tmp_path):
    """BBC News in 4 Parquet shards, three texts set to null."""
    txt = bbc.column("text").to_pylist()
    for i in (5, 77, 1500):
        txt[i] = None
    return shards(pa.table({"id": bbc.column("id"), "text": pa.array(txt)}), tmp_path / "bbc", 4)


def same_result(a, b):
    assert a.selection_.counts() == b.selection_.counts()
    np.testing.assert_array_equal(a.duplicate_of_, b.duplicate_of_)
    assert a.selection_.extra["dup_method"].equals(b.selection_.extra["dup_method"])
    assert a.selection_.extra["duplicate_of"].equals(b.selection_.extra["duplicate_of"])
    assert a.selection_.metrics == b.selection_.metrics


CASES = [
    dict(exact=True, near=0.8),
    dict(exact=True, near=NearDedup(threshold=0.6, ngram=3), keep="longest"),
    dict(exact=False, near=0.5, keep="random", seed=3),
    dict(exact=True, near=NearDedup(threshold=0.7, verify="signature")),
    dict(exact=True, near=None),
]


@pytest.mark.parametrize("on_null", ["skip", "empty"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_streamed_equals_in_memory_on_bbc(bbc_nulls, tmp_path, monkeypatch, case, on_null):
    # many small partitions, and verification split over several streamed passes
    monkeypatch.setattr(ds, "ENTRIES_PER_PARTITION", 3000)
    monkeypatch.setattr(ds, "VERIFY_CHARS", 100_000)
    cols = Columns(id="id", text="text", on_null=on_null)
    mem = Dedup(**CASES[case]).fit(load_signals(bbc_nulls, cols, keep_text=True))
    got = dedup_streamed(bbc_nulls, "text", Dedup(**CASES[case]), load_signals(bbc_nulls, cols), "local",
                         on_null=on_null, batch_size=300, cache_root=tmp_path / "cache")
    same_result(mem, got)
    assert got.selection_.counts()["duplicate"] >= 90  # the 98 exact duplicates of BBC News, at least
    assert (got.selection_.counts().get("null_text", 0) == 3) == (on_null == "skip")
    info = got.selection_.info["streamed"]
    assert info["partitions"] > (5 if CASES[case]["near"] is not None else 0)
    if CASES[case]["near"] is not None and case != 3:
        assert info["verify_text_passes"] > 1
    assert not list((tmp_path / "cache").rglob("*.npy"))  # the spill is removed once the result is whole


def test_streamed_equals_in_memory_on_rotten_tomatoes(rt, tmp_path):
    src = shards(rt.select(["text"]), tmp_path / "rt", 3)
    cols = Columns(text="text")
    mem = Dedup(exact=True, near=0.8).fit(load_signals(src, cols, keep_text=True))
    got = dedup_streamed(src, "text", Dedup(exact=True, near=0.8), load_signals(src, cols), "local",
                         batch_size=1000, cache_root=tmp_path / "cache")
    same_result(mem, got)
    assert got.selection_.metrics["exact_dropped"] >= 56


def test_partition_links_join_to_the_band_links(bbc):
    """Bucketing a band's keys split over partitions gives band_links' links once joined."""
    sig, _ = minhash_signatures(bbc.column("text"), num_perm=64)
    rows = np.arange(len(sig))
    rank = np.random.default_rng(0).permutation(len(sig))
    keys = band_keys(sig, rows, 16, 4)
    want = set(zip(*(x.tolist() for x in band_links(band_buckets(sig, rows, 16, 4), rows, rank)), strict=True))
    band = np.repeat(np.arange(16, dtype=np.uint64), len(sig))
    key, row = np.ascontiguousarray(keys.T).ravel(), np.tile(rows, 16)
    got = set()
    for p in range(5):
        m = key % np.uint64(5) == p
        a, b = group_links(band[m], key[m], row[m], rank)
        got |= set(zip(a.tolist(), b.tolist(), strict=True))
    assert got == want and len(want) > 100


def test_killed_pass_resumes_at_the_first_unfinished_block(bbc_nulls, tmp_path, monkeypatch):
    cols = Columns(id="id", text="text")
    sig = load_signals(bbc_nulls, cols)
    fresh = dedup_streamed(bbc_nulls, "text", Dedup(near=0.8), sig, "local", batch_size=300, cache_root=tmp_path / "a")
    killed = KilledOnCall(ds.minhash_signatures, at=4)  # dies on the fourth block
    monkeypatch.setattr(ds, "minhash_signatures", killed)
    with pytest.raises(KeyboardInterrupt):
        dedup_streamed(bbc_nulls, "text", Dedup(near=0.8), sig, "local", batch_size=300, cache_root=tmp_path / "b")
    assert len(list((tmp_path / "b").rglob("part-*.npz"))) == 3  # three finished blocks were kept
    killed.calls = -100
    again = dedup_streamed(bbc_nulls, "text", Dedup(near=0.8), sig, "local", batch_size=300,
                           cache_root=tmp_path / "b")
    blocks = sum(-(-len(t) // 300) for t in np.array_split(np.arange(2225), 4))
    assert killed.calls == -100 + blocks - 3  # only the unfinished blocks are computed again
    same_result(fresh, again)
    assert not list((tmp_path / "b").rglob("part-*.npz"))


def test_dedup_command_streams_files_and_matches_the_python_api(bbc_nulls, tmp_path):
    out = tmp_path / "sel.parquet"
    r = CliRunner().invoke(cli, ["dedup", str(bbc_nulls.root), "--text", "text", "--id", "id", "--near", "0.8",
                                 "--keep", "longest", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    man = json.loads((tmp_path / "sel.manifest.json").read_text())
    assert man["streamed"]["partitions"] >= 1 and man["counts"]["null_text"] == 3
    mem = Dedup(near=0.8, keep="longest").fit(load_signals(bbc_nulls, Columns(id="id", text="text"), keep_text=True))
    t = pq.read_table(out)
    assert t.column("duplicate_of").to_pylist() == mem.selection_.extra["duplicate_of"].to_pylist()
    assert t.column("reason").to_pylist() == mem.selection_.to_table().column("reason").to_pylist()


def test_killed_verification_resumes_at_the_first_unfinished_chunk(bbc_nulls, tmp_path, monkeypatch):
    monkeypatch.setattr(ds, "VERIFY_CHARS", 100_000)
    cols = Columns(id="id", text="text")
    sig = load_signals(bbc_nulls, cols)
    real = ds.jaccard_pairs
    killed = KilledOnCall(real, at=3)  # dies verifying the third chunk
    monkeypatch.setattr(ds, "jaccard_pairs", killed)
    with pytest.raises(KeyboardInterrupt):
        dedup_streamed(bbc_nulls, "text", Dedup(near=0.6), sig, "local", batch_size=300, cache_root=tmp_path / "c")
    assert len(list((tmp_path / "c").rglob("verify-*.npy"))) == 2
    killed.calls = -100
    again = dedup_streamed(bbc_nulls, "text", Dedup(near=0.6), sig, "local", batch_size=300,
                           cache_root=tmp_path / "c")
    passes = again.selection_.info["streamed"]["verify_text_passes"]
    assert passes >= 1 and killed.calls == -100 + passes  # the two finished chunks were not verified again
    monkeypatch.setattr(ds, "jaccard_pairs", real)
    fresh = dedup_streamed(bbc_nulls, "text", Dedup(near=0.6), sig, "local", batch_size=300,
                           cache_root=tmp_path / "f")
    same_result(fresh, again)
    assert fresh.selection_.info["streamed"]["verify_text_passes"] == passes + 2


def test_partition_links_of_a_later_round_join_to_the_band_links(bbc):
    """Later rounds redo only the buckets that lost a row (changed), leaving the dropped rows out."""
    sig, _ = minhash_signatures(bbc.column("text"), num_perm=64)
    n = len(sig)
    rank = np.random.default_rng(1).permutation(n)
    keys = band_keys(sig, np.arange(n), 32, 2)
    buckets = band_buckets(sig, np.arange(n), 32, 2)
    a0, b0 = band_links(buckets, np.arange(n), rank)
    dropped = np.unique(np.where(rank[a0] < rank[b0], a0, b0))  # the bucket heads leave
    active = np.ones(n, dtype=bool)
    active[dropped] = False
    changed = ~active
    want = set(zip(*(x.tolist() for x in band_links(buckets, np.flatnonzero(active), rank, changed=dropped)),
                   strict=True))
    band = np.repeat(np.arange(32, dtype=np.uint64), n)
    key, row = np.ascontiguousarray(keys.T).ravel(), np.tile(np.arange(n), 32)
    got = set()
    for p in range(3):
        m = (key % np.uint64(3) == p) & (active | changed)[row]
        a, b = group_links(band[m], key[m], row[m], rank, changed)
        got |= set(zip(a.tolist(), b.tolist(), strict=True))
    assert got == want and len(want) >= 5
    assert not (set(dropped.tolist()) & {x for pair in got for x in pair})
