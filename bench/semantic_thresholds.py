"""Cosine of random pairs per encoder on real corpora: where a semantic-dedup threshold stops meaning "duplicate".

For each encoder (hashed, model2vec static, all-MiniLM-L6-v2) and corpus (BBC News articles, Rotten
Tomatoes reviews) it embeds the texts, measures the cosine of random pairs of distinct, non-identical
rows (``datadiet.dedup.random_pair_cosines``), and reports quantiles, the share of random pairs at or
above 0.95, and the measured threshold: the 99.99th percentile rounded up to 0.01 (at most 1 random
pair in 10,000 above it). It also runs ``SemanticDedup`` at 0.95 and at that threshold on BBC News
(98 exact-duplicate articles). Run: ``python -m bench semantic_thresholds``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _embed(texts: list[str], model: str) -> np.ndarray:
    import pyarrow as pa

    from datadiet.signals import embed_source

    return np.asarray(embed_source(pa.table({"text": texts}), "text", model, cache=False))


def main(argv: list[str]) -> None:
    from bench._util import write_markdown
    from datadiet._testing import bbc_news, rotten_tomatoes
    from datadiet.dedup import SemanticDedup
    from datadiet.dedup._semantic import random_pair_cosines

    ap = argparse.ArgumentParser(prog="python -m bench semantic_thresholds")
    ap.add_argument("--pairs", type=int, default=200_000)
    ap.add_argument("--rt-rows", type=int, default=4000, help="Rotten Tomatoes reviews embedded (first rows)")
    ap.add_argument("--models", default="hashed,static,minilm")
    ap.add_argument("--bbc-rows", type=int, default=2225, help="BBC News articles embedded (first rows)")
    ap.add_argument("--chars", type=int, default=2000, help="characters of each article embedded")
    a = ap.parse_args(argv)
    bbc = bbc_news().slice(0, a.bbc_rows)
    rt = rotten_tomatoes().slice(0, a.rt_rows)
    corpora = {f"BBC News ({bbc.num_rows:,} articles)": [t[: a.chars] for t in bbc.column("text").to_pylist()],
               f"Rotten Tomatoes ({a.rt_rows:,} reviews)": [t or "" for t in rt.column("text").to_pylist()]}
    rows = ["| encoder | corpus | p50 | p99 | p99.9 | p99.99 | random pairs >= 0.95 | measured threshold | embed s |",
            "|---|---|---|---|---|---|---|---|---|"]
    per_model: dict[str, float] = {}
    dedup_rows = ["| encoder | threshold | BBC rows dropped as semantic duplicates |", "|---|---|---|"]
    for model in a.models.split(","):
        for name, texts in corpora.items():
            t0 = time.perf_counter()
            x = _embed(texts, model)
            secs = time.perf_counter() - t0
            cos = random_pair_cosines(x, np.arange(len(x)), seed=0, n_pairs=a.pairs)
            q = np.quantile(cos, [0.5, 0.99, 0.999, 0.9999])
            thr = float(np.ceil(q[3] * 100) / 100)
            per_model[model] = max(per_model.get(model, -1.0), thr)
            rows.append(f"| {model} | {name} | {q[0]:.3f} | {q[1]:.3f} | {q[2]:.3f} | {q[3]:.3f} | "
                        f"{100 * float((cos >= 0.95).mean()):.3f}% | {thr:.2f} | {secs:.1f} |")
            print(rows[-1], flush=True)
            if name.startswith("BBC"):
                for t in sorted({0.95, min(per_model[model], 1.0)}):
                    import warnings

                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        d = SemanticDedup(threshold=t).fit(vectors=x)
                    dedup_rows.append(f"| {model} | {t:.2f} | {d.selection_.counts().get('duplicate', 0):,} |")
                    print(dedup_rows[-1], flush=True)
    text = ("## Semantic-dedup thresholds per encoder (random-pair cosines)\n\n"
            f"{a.pairs:,} random pairs of distinct, non-identical rows per corpus (sample of 4,096 rows).\n\n"
            + "\n".join(rows) + "\n\nPer-encoder default (the larger measured threshold of the two corpora): "
            + ", ".join(f"{m} {t:.2f}" for m, t in per_model.items()) + "\n\n" + "\n".join(dedup_rows) + "\n")
    print(text)
    write_markdown("semantic_thresholds", text)
