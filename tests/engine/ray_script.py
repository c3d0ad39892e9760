"""Everything the Ray tests need, run once in one Ray session (see conftest.py). Writes to BASE/out."""

import json
import sys
from pathlib import Path

import numpy as np
import ray
from click.testing import CliRunner

import datadiet.engine._dedup_spill as ds
from datadiet import Columns, GroupBalanceSelector, load_signals
from datadiet.cli import cli
from datadiet.dedup import Dedup, NearDedup
from datadiet.engine import (
    RayEngine,
    assign_on_engine,
    dsir_select,
    embed_on_engine,
    exact_groups,
    minhash_on_engine,
)
from tests.engine.dsir_cases import CASES, RAY_CASES, target_texts
from tests.engine.test_engines import Upper


def main():
    """Run under conftest.ray_run only (inside the network namespace); importing this module runs nothing."""
    base, ray_tmp = Path(sys.argv[1]), sys.argv[2]
    shards, out = base / "shards", base / "out"
    out.mkdir()
    ray.init(num_cpus=2, object_store_memory=200 * 1024**2, include_dashboard=False, _temp_dir=ray_tmp,
             log_to_driver=False)
    eng = RayEngine()  # uses the running session
    res = {}
    # reading signals, a selector on them, a user step
    sig = load_signals(shards, Columns(text="text", group="topic"), need_tokens=True, batch_size=97, engine="ray")
    sel = GroupBalanceSelector(budget=700, alpha=0.0, seed=11).fit(sig).selection_
    res["signals"] = {"ids": sig.ids.to_pylist(), "tokens": sig.tokens.tolist(), "groups": sig.groups.tolist(),
                      "kept": [i for i, k in zip(sig.ids.to_pylist(), sel.kept, strict=True) if k],
                      "upper": eng.run(shards, Upper()).column("upper").to_pylist()}
    # DSIR: three map -> reduce stages
    tgt = target_texts()
    res["dsir"] = {}
    for name in RAY_CASES:
        s = dsir_select(shards, tgt, Columns(text="text"), seed=5, cache=False, batch_size=150, engine=eng, **CASES[name])
        res["dsir"][name] = {"ids": s.ids.take(s.indices).to_pylist(), "weight": np.asarray(s.weight).tolist(),
                             "kl_reduction": s.metrics["kl_reduction"]}
    # MinHash signatures, exact keys, embeddings, k-means assignment
    sigs, counts = minhash_on_engine(shards, "text", eng, batch_size=200)
    np.save(out / "minhash.npy", sigs)
    np.save(out / "minhash_counts.npy", counts)
    np.save(out / "exact.npy", exact_groups(shards, "text", eng, batch_size=300))
    np.save(out / "embed.npy", np.asarray(embed_on_engine(shards, "text", "static", eng, cache=False, batch_size=400)))
    vec = np.load(base / "vectors" / "centroids.npy")
    lab, dist = assign_on_engine(base / "vectors", "v", vec, eng, spherical=True, batch_size=500)
    np.save(out / "assign_labels.npy", lab)
    np.save(out / "assign_dist.npy", dist)
    # streamed exact + near dedup: spill pass and partition grouping as Ray tasks, null texts skipped
    ds.ENTRIES_PER_PARTITION, ds.VERIFY_CHARS = 20_000, 200_000  # many partitions, several verification passes
    rtn = base / "rt_nulls"
    d = ds.dedup_streamed(rtn, "text", Dedup(exact=True, near=NearDedup(threshold=0.5, ngram=3), keep="longest"),
                          load_signals(rtn, Columns(id="id", text="text"), engine=eng), eng, batch_size=1500,
                          cache_root=base / "spill_cache")
    np.save(out / "streamed_dup.npy", d.duplicate_of_)
    res["streamed"] = {"counts": d.selection_.counts(), "metrics": d.selection_.metrics,
                       "info": d.selection_.info["streamed"]}
    # the commands, on a copy of the shards (so their caches are their own)
    cli_in = str(base / "shards_cli")
    (base / "target.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in tgt))
    runs = {
        "dsir": ["select", "dsir", cli_in, "--text", "text", "--target", str(base / "target.jsonl"), "--budget", "300",
                 "--seed", "2", "--engine", "ray", "-o", str(out / "dsir.parquet"), "-q"],
        "dedup": ["dedup", cli_in, "--text", "text", "--near", "0.8", "--engine", "ray", "-o", str(out / "dedup.parquet"),
                  "-q"],
        "dedup_nulls": ["dedup", str(rtn), "--text", "text", "--id", "id", "--near", "0.8", "--on-null", "skip",
                        "--engine", "ray", "-o", str(out / "dedup_nulls.parquet"), "-q"],
        "dedup_sem_nulls": ["dedup", str(rtn), "--text", "text", "--id", "id", "--model", "static", "--semantic",
                            "0.95", "--no-exact", "--on-null", "skip", "--engine", "ray", "-o",
                            str(out / "dedup_sem_nulls.parquet"), "-q"],
        "select_nulls": ["select", "kcenter", str(rtn), "--text", "text", "--id", "id", "--model", "static",
                         "--budget", "200", "--on-null", "skip", "--engine", "ray", "-o",
                         str(out / "select_nulls.parquet"), "-q"],
        "embed_nulls": ["embed", str(rtn), "--text", "text", "--model", "static", "--on-null", "skip", "--engine",
                        "ray", "-o", str(out / "emb_nulls.npy"), "-q"],
        "embed": ["embed", cli_in, "--text", "text", "--model", "static", "--engine", "ray", "-o", str(out / "emb.npy"),
                  "-q"],
        "cluster": ["cluster", cli_in, "--text", "text", "--model", "static", "--k", "5", "--engine", "ray", "-o",
                    str(out / "cluster.parquet"), "-q"],
    }
    res["cli"] = {}
    for name, args in runs.items():
        r = CliRunner().invoke(cli, args)
        res["cli"][name] = {"exit_code": r.exit_code, "output": r.output[-2000:]}
    ray.shutdown()
    (out / "results.json").write_text(json.dumps(res))
    (out / "done").write_text("ok")


if __name__ == "__main__":
    main()
