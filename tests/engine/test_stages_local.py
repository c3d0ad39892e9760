"""The map -> reduce stages on the local engine equal the in-process functions, whatever the block size
(no Ray needed: the same steps run on Ray in test_ray_steps.py)."""

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from datadiet import Columns
from datadiet.cli import cli
from datadiet.engine import (
    LocalEngine,
    assign_on_engine,
    dsir_select,
    embed_on_engine,
    exact_groups,
    minhash_on_engine,
)
from datadiet.engine._blocks import block_row, concatenated, stacked
from datadiet.engine._dsir_stages import gumbel_candidates
from datadiet.select._base import Target
from datadiet.select._importance import pick_by_importance
from tests.engine.conftest import texts_of, write_shards
from tests.engine.dsir_cases import CASES, target_texts


@pytest.fixture(scope="module")
def shards(bbc, tmp_path_factory):
    return write_shards(bbc, tmp_path_factory.mktemp("local") / "shards")


@pytest.mark.parametrize("case", sorted(CASES))
def test_dsir_stages_equal_the_streaming_path(shards, case):
    ref = dsir_select(shards, target_texts(), Columns(text="text"), seed=7, cache=False, **CASES[case])
    got = dsir_select(shards, target_texts(), Columns(text="text"), seed=7, cache=False, batch_size=130,
                      engine=LocalEngine(), **CASES[case])
    assert got.ids.take(got.indices).to_pylist() == ref.ids.take(ref.indices).to_pylist()
    np.testing.assert_allclose(np.asarray(got.weight), np.asarray(ref.weight), rtol=1e-12)
    assert got.metrics["kl_reduction"] == pytest.approx(ref.metrics["kl_reduction"], rel=1e-9)


def test_dsir_stages_with_two_targets(shards, bbc):
    texts, topics = bbc.column("text").to_pylist(), bbc.column("topic").to_pylist()
    tgt = {"sport": [t for t, g in zip(texts, topics) if g == "sport"][:40],
           "tech": [t for t, g in zip(texts, topics) if g == "tech"][:40]}
    ref = dsir_select(shards, tgt, Columns(text="text"), budget=200, seed=1, cache=False)
    got = dsir_select(shards, tgt, Columns(text="text"), budget=200, seed=1, cache=False, batch_size=77,
                      engine=LocalEngine())
    assert got.indices.tolist() == ref.indices.tolist()
    assert got.metrics["kl_reduction_per_target"] == pytest.approx(ref.metrics["kl_reduction_per_target"])


def test_per_block_candidates_hold_the_global_top_k():
    rng = np.random.default_rng(0)
    n, k = 5000, 40
    log_w = rng.normal(size=(n, 2))
    ids = pa.array(np.arange(n) * 7 + 3)
    ok = rng.random(n) > 0.1
    ref = pick_by_importance(log_w, ids, Target(examples=k), shares=np.array([0.5, 0.5]), seed=3,
                             sampling="gumbel", eligible=ok)
    cand = np.concatenate([lo + gumbel_candidates(log_w[lo:lo + 700], ids.slice(lo, 700), ok[lo:lo + 700], 3,
                                                  "gumbel", k) for lo in range(0, n, 700)])
    assert cand.size < n / 3
    got = cand[pick_by_importance(log_w[cand], ids.take(pa.array(cand)), Target(examples=k),
                                  shares=np.array([0.5, 0.5]), seed=3, sampling="gumbel", eligible=ok[cand])]
    assert np.sort(got).tolist() == ref.tolist()


def test_steps_equal_the_in_process_functions(shards):
    from datadiet.dedup import ExactDedup, minhash_signatures
    from datadiet.index import assign, kmeans
    from datadiet.signals import embed_source

    text = texts_of(shards)
    sig, cnt = minhash_on_engine(shards, "text", LocalEngine(), batch_size=333, num_perm=64)
    ref_sig, ref_cnt = minhash_signatures(text, num_perm=64)
    assert np.array_equal(sig, ref_sig) and np.array_equal(cnt, ref_cnt)
    groups = exact_groups(shards, "text", LocalEngine(), batch_size=200)
    kept = np.zeros(len(groups), bool)
    kept[np.unique(groups, return_index=True)[1]] = True
    assert np.array_equal(kept, np.asarray(ExactDedup().fit(text=text).selection_.kept))
    vec = embed_on_engine(shards, "text", "hashed:32", LocalEngine(), cache=False, batch_size=300)
    np.testing.assert_array_equal(vec, embed_source(shards, "text", "hashed:32", cache=False))
    cents = kmeans(vec, 4, seed=0).centroids
    t = pa.table({"v": pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(vec).ravel()), 32)})
    lab, dist = assign_on_engine(t, "v", cents, LocalEngine(), batch_size=100)
    ref_lab, ref_dist = assign(vec, cents)
    assert np.array_equal(lab, ref_lab) and np.allclose(dist, ref_dist, atol=1e-5)


def test_block_rows_round_trip():
    t = pa.concat_tables([block_row(c=np.arange(3), ids=pa.array(["a", "b"]), n=2),
                          block_row(c=np.arange(3) * 2, ids=pa.array(["c"]), n=1)])
    assert stacked(t, "c", 3).sum(axis=0).tolist() == [0, 3, 6]
    assert concatenated(t, "ids").to_pylist() == ["a", "b", "c"]


@pytest.mark.parametrize("extra, message", [
    (["--address", "auto"], "--address sets up the Ray engine; add --engine ray"),
    (["--engine", "ray", "--object-store-memory", "lots"], "cannot read --object-store-memory 'lots'"),
    (["--engine", "ray", "--address", "auto", "--num-cpus", "2"], "--num-cpus sizes a local Ray"),
])
def test_ray_options_are_checked_before_ray_starts(bbc_jsonl, tmp_path, extra, message):
    r = CliRunner().invoke(cli, ["dedup", str(bbc_jsonl), "--text", "text", *extra, "-o",
                                 str(tmp_path / "s.parquet")])
    assert r.exit_code == 2 and message in r.output, r.output
    assert not (tmp_path / "s.parquet").exists()
    assert "--workers" in CliRunner().invoke(cli, ["embed", "--help"]).output
    assert "ray://HOST:PORT" in " ".join(CliRunner().invoke(cli, ["select", "dsir", "--help"]).output.split())
