"""Every streaming pass gives the same ids on Ray as in-process, on BBC News (one shared Ray session)."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from datadiet import Columns, load_signals
from datadiet.cli import cli
from datadiet.dedup import ExactDedup, minhash_signatures
from datadiet.engine import dsir_select
from datadiet.index import assign
from datadiet.signals import embed_source
from tests.engine.conftest import texts_of, write_shards
from tests.engine.dsir_cases import CASES, RAY_CASES, target_texts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(ray_run):
    return json.loads((ray_run / "out" / "results.json").read_text())


@pytest.mark.parametrize("case", RAY_CASES)
def test_dsir_stages_on_ray_select_what_the_in_process_path_selects(ray_run, results, case):
    ref = dsir_select(ray_run / "shards", target_texts(), Columns(text="text"), seed=5, cache=False,
                      batch_size=1000, **CASES[case])
    got = results["dsir"][case]
    assert got["ids"] == ref.ids.take(ref.indices).to_pylist()
    assert len(got["ids"]) > 100
    np.testing.assert_allclose(got["weight"], np.asarray(ref.weight), rtol=1e-12)
    assert got["kl_reduction"] == pytest.approx(ref.metrics["kl_reduction"], rel=1e-9)
    if "budget" in CASES[case]:
        assert got["kl_reduction"] > 0


def test_minhash_and_exact_keys_on_ray(ray_run):
    out = ray_run / "out"
    text = texts_of(ray_run / "shards")
    sig, cnt = minhash_signatures(text)
    assert np.array_equal(np.load(out / "minhash.npy"), sig)
    assert np.array_equal(np.load(out / "minhash_counts.npy"), cnt)
    groups = np.load(out / "exact.npy")
    ref = ExactDedup().fit(text=text).selection_
    assert len(groups) - len(np.unique(groups)) == ref.counts()["duplicate"] > 90
    # the same partition: rows kept by exact dedup are the first of each group
    first = np.zeros(len(groups), bool)
    first[np.unique(groups, return_index=True)[1]] = True
    assert np.array_equal(first, np.asarray(ref.kept))


def test_embedding_actor_pool_and_assignment_on_ray(ray_run):
    out = ray_run / "out"
    ref = np.asarray(embed_source(ray_run / "shards", "text", "static", cache=False))
    np.testing.assert_allclose(np.load(out / "embed.npy"), ref, atol=1e-6)
    centroids = np.load(ray_run / "vectors" / "centroids.npy")
    labels, dist = assign(ref, centroids, spherical=True)
    assert np.array_equal(np.load(out / "assign_labels.npy"), labels)
    np.testing.assert_allclose(np.load(out / "assign_dist.npy"), dist, atol=1e-5)
    assert len(np.unique(labels)) == 6


def test_commands_with_engine_ray_write_what_the_local_engine_writes(ray_run, results, bbc, tmp_path):
    out = ray_run / "out"
    for name, r in results["cli"].items():
        assert r["exit_code"] == 0, (name, r["output"])
    local = write_shards(bbc, tmp_path / "shards")
    args = {
        "dsir": ["select", "dsir", str(local), "--text", "text", "--target", str(ray_run / "target.jsonl"),
                 "--budget", "300", "--seed", "2", "-o", str(tmp_path / "dsir.parquet"), "-q"],
        "dedup": ["dedup", str(local), "--text", "text", "--near", "0.8", "-o", str(tmp_path / "dedup.parquet"), "-q"],
        "embed": ["embed", str(local), "--text", "text", "--model", "static", "-o", str(tmp_path / "emb.npy"), "-q"],
        "cluster": ["cluster", str(local), "--text", "text", "--model", "static", "--k", "5", "-o",
                    str(tmp_path / "cluster.parquet"), "-q"],
    }
    for name, a in args.items():
        r = CliRunner().invoke(cli, a)
        assert r.exit_code == 0, (name, r.output)
    for name in ("dsir", "dedup"):
        ray_t, loc_t = pq.read_table(out / f"{name}.parquet"), pq.read_table(tmp_path / f"{name}.parquet")
        assert ray_t.column("id").to_pylist() == loc_t.column("id").to_pylist()
        assert ray_t.column("kept").to_pylist() == loc_t.column("kept").to_pylist()
        assert 0 < sum(ray_t.column("kept").to_pylist()) < ray_t.num_rows
    ray_m = json.loads((out / "dedup.manifest.json").read_text())
    assert ray_m["counts"]["duplicate"] > 100
    np.testing.assert_allclose(np.load(out / "emb.npy"), np.load(tmp_path / "emb.npy"), atol=1e-6)
    assert pq.read_table(out / "cluster.parquet").column("cluster").to_pylist() == \
        pq.read_table(tmp_path / "cluster.parquet").column("cluster").to_pylist()


def test_streamed_dedup_on_ray_drops_what_the_local_engine_drops(ray_run, results, rt_nulls, tmp_path):
    """Spill pass and partition grouping as Ray tasks: the same drops and ids as in-process, null texts skipped."""
    import datadiet.engine._dedup_spill as ds
    from datadiet.dedup import Dedup, NearDedup
    from datadiet.engine import dedup_streamed

    rtn = ray_run / "rt_nulls"
    cols = Columns(id="id", text="text")
    mem = Dedup(exact=True, near=NearDedup(threshold=0.5, ngram=3), keep="longest").fit(load_signals(rtn, cols, keep_text=True))
    old = ds.ENTRIES_PER_PARTITION, ds.VERIFY_CHARS
    ds.ENTRIES_PER_PARTITION, ds.VERIFY_CHARS = 20_000, 200_000
    try:
        loc = dedup_streamed(rtn, "text", Dedup(exact=True, near=NearDedup(threshold=0.5, ngram=3), keep="longest"), load_signals(rtn, cols),
                             "local", batch_size=1500, cache_root=tmp_path / "cache")
    finally:
        ds.ENTRIES_PER_PARTITION, ds.VERIFY_CHARS = old
    ray_dup = np.load(ray_run / "out" / "streamed_dup.npy")
    np.testing.assert_array_equal(ray_dup, mem.duplicate_of_)
    np.testing.assert_array_equal(ray_dup, loc.duplicate_of_)
    got = results["streamed"]
    assert got["counts"] == mem.selection_.counts() and got["counts"]["null_text"] == 14
    assert got["metrics"] == json.loads(json.dumps(mem.selection_.metrics))
    assert got["info"]["partitions"] > 5 and got["info"]["verify_text_passes"] >= 1
    assert got["counts"]["duplicate"] >= 56
    # the command with --on-null skip on Ray writes what it writes locally
    assert results["cli"]["dedup_nulls"]["exit_code"] == 0, results["cli"]["dedup_nulls"]["output"]
    r = CliRunner().invoke(cli, ["dedup", str(rtn), "--text", "text", "--id", "id", "--near", "0.8", "--on-null",
                                 "skip", "-o", str(tmp_path / "n.parquet"), "-q"])
    assert r.exit_code == 0, r.output
    ray_t, loc_t = pq.read_table(ray_run / "out" / "dedup_nulls.parquet"), pq.read_table(tmp_path / "n.parquet")
    for col in ("id", "kept", "reason", "duplicate_of", "dup_method"):
        assert ray_t.column(col).to_pylist() == loc_t.column(col).to_pylist(), col
    assert ray_t.column("reason").to_pylist().count("null_text") == 14


def test_semantic_dedup_with_a_model_on_ray_skips_null_texts_as_locally(ray_run, results, tmp_path):
    """--model on Ray embeds the rows with a null text as '' and the dedup leaves them out (null_text)."""
    r = results["cli"]["dedup_sem_nulls"]
    assert r["exit_code"] == 0, r["output"]
    rtn = ray_run / "rt_nulls"
    loc = CliRunner().invoke(cli, ["dedup", str(rtn), "--text", "text", "--id", "id", "--model", "static",
                                   "--semantic", "0.95", "--no-exact", "--on-null", "skip", "-o",
                                   str(tmp_path / "s.parquet"), "-q"])
    assert loc.exit_code == 0, loc.output
    ray_t, loc_t = pq.read_table(ray_run / "out" / "dedup_sem_nulls.parquet"), pq.read_table(tmp_path / "s.parquet")
    for col in ("id", "kept", "reason", "duplicate_of"):
        assert ray_t.column(col).to_pylist() == loc_t.column(col).to_pylist(), col
    reasons = ray_t.column("reason").to_pylist()
    assert reasons.count("null_text") == 14 and reasons.count("duplicate") > 0


def test_select_and_embed_with_a_model_on_ray_skip_null_texts_as_locally(ray_run, results, tmp_path):
    """`select --model` and `embed` on Ray follow --on-null skip: the same selection and vectors as in-process."""
    rtn = ray_run / "rt_nulls"
    for name in ("select_nulls", "embed_nulls"):
        assert results["cli"][name]["exit_code"] == 0, results["cli"][name]["output"]
    loc = CliRunner().invoke(cli, ["select", "kcenter", str(rtn), "--text", "text", "--id", "id", "--model", "static",
                                   "--budget", "200", "--on-null", "skip", "-o", str(tmp_path / "k.parquet"), "-q"])
    assert loc.exit_code == 0, loc.output
    ray_t, loc_t = pq.read_table(ray_run / "out" / "select_nulls.parquet"), pq.read_table(tmp_path / "k.parquet")
    for col in ("id", "kept", "reason"):
        assert ray_t.column(col).to_pylist() == loc_t.column(col).to_pylist(), col
    assert ray_t.column("reason").to_pylist().count("null_text") == 14
    loc = CliRunner().invoke(cli, ["embed", str(rtn), "--text", "text", "--model", "static", "--on-null", "skip",
                                   "-o", str(tmp_path / "e.npy"), "-q"])
    assert loc.exit_code == 0, loc.output
    np.testing.assert_allclose(np.load(ray_run / "out" / "emb_nulls.npy"), np.load(tmp_path / "e.npy"), atol=1e-6)
