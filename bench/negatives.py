"""Negatives: datadiet's miner vs sentence-transformers' ``mine_hard_negatives``; a quality benchmark.

``python -m bench negatives speed [N_DOCS] [N_QUERIES]`` (default 120,000 documents, 20,000 queries)
``python -m bench negatives quality [SEEDS]`` (default 3 seeds)
``python -m bench negatives`` (both)

(a) speed / identity. Real text from ``bench/_pool.py`` (BBC News paragraphs, Rotten
Tomatoes snippets, Python docstrings, man pages -- no replication needed at this
size). Every ``N_DOCS / N_QUERIES``-th paragraph with >= 16 words is split: its
first half is a query whose positive is that paragraph. Texts are de-duplicated (sentence-transformers
merges identical texts). Both tools get the same precomputed vectors (the local
static model, 64-d, unit rows; sentence-transformers reads them from its
``cache_folder``, so neither encodes), ``sampling_strategy="top"``, the same
``range_min`` / ``range_max`` / margin and 5 negatives, triplet output with
texts. sentence-transformers runs with ``use_faiss=True`` (its fastest path; the
default torch path builds 16,384 x N_DOCS score blocks). Each runs in its own
process; time excludes loading the vectors and building the model.

(b) quality on the BBC title -> body collection (``datadiet._testing.corpora.bbc_retrieval``:
train / test split of the queries by a fixed hash). A linear adapter over frozen
all-MiniLM-L6-v2 vectors (queries pass through ``W``, initialised to the
identity; documents stay fixed) is trained with the in-batch softmax of
sentence-transformers' ``MultipleNegativesRankingLoss`` (scale 20, batch 32,
Adam lr 1e-3, 10 epochs over the training pairs) with one negative per pair
from each miner setting, or none; nDCG@10 and MRR@10 of the held-out queries
against the whole corpus come from ``ranx``.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from bench._util import OUT, run_isolated, write_markdown

WORK = OUT / "negatives"
SETTINGS = {"num_negatives": 5, "range_min": 10, "range_max": 60, "relative_margin": 0.05}

# ----------------------------------------------------------------------------- (a) speed


def _prepare_speed(n_docs: int, n_queries: int) -> dict[str, object]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench._pool import describe, load_pool
    from datadiet.signals import get_encoder

    WORK.mkdir(parents=True, exist_ok=True)
    tag = f"{n_docs}-{n_queries}-v3"
    meta = WORK / f"speed-{tag}.json"
    if meta.exists():
        return json.loads(meta.read_text())
    pool = load_pool(n_docs)
    texts = pool.column("text").to_pylist()
    step = max(1, n_docs // (2 * n_queries))
    queries, positives = [], []
    seen_q: set[str] = set()
    for i in range(0, len(texts), step):
        words = texts[i].split()
        if len(words) < 16:
            continue
        q = " ".join(words[:len(words) // 2])
        if q in seen_q:
            continue
        seen_q.add(q)
        queries.append(q)
        positives.append(texts[i])
        if len(queries) == n_queries:
            break
    corpus = list(dict.fromkeys(texts))
    enc = get_encoder("static")
    t0 = time.perf_counter()
    qv = np.concatenate([enc.encode(queries[i:i + 8192]) for i in range(0, len(queries), 8192)]).astype("float32")
    dv = np.concatenate([enc.encode(corpus[i:i + 8192]) for i in range(0, len(corpus), 8192)]).astype("float32")
    np.save(WORK / f"q-{tag}.npy", qv)
    np.save(WORK / f"d-{tag}.npy", dv)
    pq.write_table(pa.table({"text": queries, "positive": positives}), WORK / f"pairs-{tag}.parquet")
    pq.write_table(pa.table({"text": corpus}), WORK / f"corpus-{tag}.parquet")
    info = {"tag": tag, "queries": len(queries), "corpus": len(corpus), "pool": describe(pool),
            "encode_seconds": round(time.perf_counter() - t0, 1)}
    meta.write_text(json.dumps(info))
    return info


_LOAD = """
import json, time, numpy as np, pyarrow.parquet as pq
W = {work!r}; tag = {tag!r}; S = {settings!r}
qv = np.load(f"{{W}}/q-{{tag}}.npy"); dv = np.load(f"{{W}}/d-{{tag}}.npy")
pairs = pq.read_table(f"{{W}}/pairs-{{tag}}.parquet"); corpus = pq.read_table(f"{{W}}/corpus-{{tag}}.parquet")
queries = pairs.column("text").to_pylist(); positives = pairs.column("positive").to_pylist()
docs = corpus.column("text").to_pylist()
"""

OURS = _LOAD + """
import pyarrow as pa
from datadiet.negatives import HardNegativeMiner, MinedBlock, records_table
pos_rows = {{t: i for i, t in enumerate(docs)}}
qrels = (np.arange(len(queries)), np.array([pos_rows[p] for p in positives]))
qt = pa.array(queries); dt = pa.array(docs)
t0 = time.perf_counter()
m = HardNegativeMiner(**S, strategy="top").fit(qv, dv, qrels, doc_texts=dt, query_texts=qt)  # as the CLI
blk = MinedBlock(m.query_, m.positive_, m.negatives_, m.negative_scores_, m.positive_scores_)
table = records_table(blk, "triplet", pa.array(np.arange(len(queries))), pa.array(np.arange(len(docs))), qt, dt)
sec = time.perf_counter() - t0
out = {{}}
for a, n in zip(table.column("anchor").to_pylist(), table.column("negative").to_pylist()):
    out.setdefault(a, []).append(n)
json.dump(out, open(f"{{W}}/ours-{{tag}}.json", "w"))
print(json.dumps({{"seconds": sec, "rows": table.num_rows, "removed": m.removed_}}))
"""

PEER = _LOAD + """
import hashlib, os, logging
logging.disable(logging.WARNING)
from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import StaticEmbedding
from sentence_transformers.util import mine_hard_negatives
from datadiet.signals._encoders import resolve_model
model = SentenceTransformer(modules=[StaticEmbedding.from_model2vec(str(resolve_model("static")[1]))], device="cpu")
cache = f"{{W}}/st-cache-{{tag}}"; os.makedirs(cache, exist_ok=True)
name = model.model_card_data.base_model or ""
uq = list(dict.fromkeys(queries)); uc = list(dict.fromkeys(docs + positives))
assert uc == docs and uq == queries
qh = hashlib.sha256(repr((name, None, None, uq)).encode()).hexdigest()
ch = hashlib.sha256(repr((name, None, None, uc)).encode()).hexdigest()
np.save(f"{{cache}}/query_embeddings_{{qh}}.npy", qv); np.save(f"{{cache}}/corpus_embeddings_{{ch}}.npy", dv)
ds = Dataset.from_dict({{"anchor": queries, "positive": positives}})
t0 = time.perf_counter()
res = mine_hard_negatives(ds, model, corpus=docs, sampling_strategy="top", use_faiss={use_faiss}, cache_folder=cache,
                          verbose=False, output_format="triplet", **S)
sec = time.perf_counter() - t0
out = {{}}
for a, n in zip(res["anchor"], res["negative"]):
    out.setdefault(a, []).append(n)
json.dump(out, open(f"{{W}}/peer-{{tag}}-{use_faiss}.json", "w"))
print(json.dumps({{"seconds": sec, "rows": len(res)}}))
"""


def _tie_only(a: dict, b: dict, differing: list[str], tag: str) -> int:
    """How many differing queries differ only by candidates with (numerically) equal scores."""
    import pyarrow.parquet as pq

    if not differing:
        return 0
    qv = np.load(WORK / f"q-{tag}.npy")
    dv = np.load(WORK / f"d-{tag}.npy")
    qv /= np.linalg.norm(qv, axis=1, keepdims=True)
    dv /= np.linalg.norm(dv, axis=1, keepdims=True)
    queries = pq.read_table(WORK / f"pairs-{tag}.parquet").column("text").to_pylist()
    docs = pq.read_table(WORK / f"corpus-{tag}.parquet").column("text").to_pylist()
    qrow = {t: i for i, t in enumerate(queries)}
    drow = {t: i for i, t in enumerate(docs)}
    n = 0
    for k in differing:
        x, y = a.get(k, []), b.get(k, [])
        sx = np.sort([float(dv[drow[t]] @ qv[qrow[k]]) for t in x])
        sy = np.sort([float(dv[drow[t]] @ qv[qrow[k]]) for t in y])
        n += int(len(sx) == len(sy) and np.allclose(sx, sy, atol=1e-6, rtol=0))
    return n


def speed(argv: list[str]) -> str:
    n_docs = int(argv[0]) if argv else 120_000
    n_queries = int(argv[1]) if len(argv) > 1 else 20_000
    info = _prepare_speed(n_docs, n_queries)
    tag = str(info["tag"])
    fmt = {"work": str(WORK), "tag": tag, "settings": SETTINGS}
    ours = run_isolated(OURS.format(**fmt))
    peer = run_isolated(PEER.format(**fmt, use_faiss=True))
    torch_path = run_isolated(PEER.format(**fmt, use_faiss=False))
    a = json.loads((WORK / f"ours-{tag}.json").read_text())
    b = json.loads((WORK / f"peer-{tag}-True.json").read_text())
    keys = set(a) | set(b)
    same_lists = sum(a.get(k) == b.get(k) for k in keys)
    total_neg = sum(len(b.get(k, [])) for k in keys)
    same_neg = sum(len(set(a.get(k, [])) & set(b.get(k, []))) for k in keys)
    ties = _tie_only(a, b, [k for k in keys if a.get(k) != b.get(k)], tag)
    from importlib.metadata import version

    st = f"sentence-transformers {version('sentence-transformers')}"
    lines = [
        "## Negatives (a): datadiet vs sentence-transformers `mine_hard_negatives`",
        "",
        f"Corpus: {info['corpus']:,} real paragraphs ({info['pool']}; first {n_docs:,} of the pool, "
        f"de-duplicated), {info['queries']:,} queries (the first half of a paragraph, whose positive it is). "
        f"Same precomputed static-model vectors (64-d) for both; encoding ({info['encode_seconds']} s) excluded. "
        f"Settings: `sampling_strategy=\"top\"`, {SETTINGS}, triplets with texts; sentence-transformers with "
        "`use_faiss=True`.",
        "",
        "| | seconds (mining, no encoding) | peak RSS MB | triplet rows |",
        "|---|---:|---:|---:|",
        f"| datadiet HardNegativeMiner | {ours['seconds']:.2f} | {ours['peak_rss_mb']:.0f} | {ours['rows']:,} |",
        f"| {st}, `use_faiss=True` | {peer['seconds']:.2f} | {peer['peak_rss_mb']:.0f} | "
        f"{peer['rows']:,} |",
        f"| {st}, default torch path | {torch_path['seconds']:.2f} | "
        f"{torch_path['peak_rss_mb']:.0f} | {torch_path['rows']:,} |",
        "",
        f"Speed ratio (sentence-transformers / datadiet): **{peer['seconds'] / ours['seconds']:.2f}x** "
        f"(faiss path), **{torch_path['seconds'] / ours['seconds']:.2f}x** (torch path). "
        f"Identical negative lists (vs the faiss path): **{same_lists:,} / {len(keys):,} queries "
        f"({same_lists / len(keys):.2%})**; identical negatives {same_neg:,} / {total_neg:,} "
        f"({same_neg / max(total_neg, 1):.2%}). Of the {len(keys) - same_lists} queries that differ, "
        f"{ties} differ only among candidates of equal score (|difference| <= 1e-6, i.e. ties broken differently).",
        f"Guard counts (datadiet): {ours['removed']}.",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- (b) quality


def _bbc_vectors() -> dict[str, object]:
    from datadiet._testing.corpora import bbc_retrieval
    from datadiet.signals import get_encoder

    WORK.mkdir(parents=True, exist_ok=True)
    col = bbc_retrieval()
    qf, df = WORK / "bbc-q-minilm.npy", WORK / "bbc-d-minilm.npy"
    if not qf.exists():
        enc = get_encoder("minilm")
        np.save(qf, enc.encode(col["queries"].column("text").to_pylist()).astype("float32"))
        np.save(df, enc.encode(col["corpus"].column("text").to_pylist()).astype("float32"))
    return {"col": col, "q": np.load(qf), "d": np.load(df)}


def _rows(col: dict, split: str) -> tuple[np.ndarray, np.ndarray]:
    qids = {x: i for i, x in enumerate(col["queries"].column("_id").to_pylist())}
    dids = {x: i for i, x in enumerate(col["corpus"].column("_id").to_pylist())}
    t = col[f"qrels_{split}"]
    q = np.array([qids[x] for x in t.column("query-id").to_pylist()])
    d = np.array([dids[x] for x in t.column("corpus-id").to_pylist()])
    return q, d


def _train(qv: np.ndarray, dv: np.ndarray, q: np.ndarray, p: np.ndarray, neg: np.ndarray | None,
           batches: list[list[int]], epochs: int, seed: int) -> np.ndarray:
    import torch

    torch.manual_seed(seed)
    d = qv.shape[1]
    w = torch.nn.Parameter(torch.eye(d))
    opt = torch.optim.Adam([w], lr=1e-3)
    Q, D = torch.from_numpy(qv), torch.from_numpy(dv)
    for _ in range(epochs):
        for b in batches:
            b = np.asarray(b)
            qb = torch.nn.functional.normalize(Q[q[b]] @ w, dim=1)
            docs = [p[b]] + ([neg[b]] if neg is not None else [])
            cand = D[np.concatenate(docs)]
            logits = 20.0 * qb @ cand.T
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(b)))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return w.detach().numpy()


def _evaluate(qv: np.ndarray, dv: np.ndarray, w: np.ndarray, col: dict) -> tuple[float, float]:
    from ranx import Qrels, Run, evaluate

    q, d = _rows(col, "test")
    qid = col["queries"].column("_id").to_pylist()
    did = col["corpus"].column("_id").to_pylist()
    rows = np.unique(q)
    x = qv[rows] @ w
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    s = x @ dv.T
    top = np.argsort(-s, axis=1)[:, :100]
    qrels = Qrels({qid[r]: {did[j]: 1 for j in d[q == r]} for r in rows})
    run = Run({qid[r]: {did[j]: float(s[i, j]) for j in top[i]} for i, r in enumerate(rows)})
    m = evaluate(qrels, run, ["ndcg@10", "mrr@10"])
    return float(m["ndcg@10"]), float(m["mrr@10"])


def quality(argv: list[str]) -> str:
    from datadiet.negatives import HardNegativeMiner, NGAMEComposer, TASBComposer

    seeds = int(argv[0]) if argv else 3
    epochs, bs = 10, 32
    data = _bbc_vectors()
    col, qv, dv = data["col"], data["q"], data["d"]
    q, p = _rows(col, "train")
    texts = col["corpus"].column("text")
    configs = {
        "in-batch negatives only": None,
        "random (window of 50)": {"strategy": "random", "range_max": 50},
        "top-k": {"strategy": "top"},
        "top-k + margin guard (relative 0.05)": {"strategy": "top", "relative_margin": 0.05},
        "SimANS (a, b estimated)": {"strategy": "simans", "range_max": 50},
        "TAS-B batches, in-batch only": "tasb",
        "NGAME batches (top-k + margin), in-batch only": "ngame",
    }
    base = _evaluate(qv, dv, np.eye(qv.shape[1], dtype=np.float32), col)
    print(f"zero-shot: nDCG@10 {base[0]:.4f} MRR@10 {base[1]:.4f}", flush=True)
    rows = [("zero-shot MiniLM (no training)", [base] * seeds, 0.0)]
    for name, cfg in configs.items():
        res = []
        t0 = time.perf_counter()
        for seed in range(seeds):
            order = np.argsort(np.random.default_rng(seed).random(len(q)))
            batches = [order[i:i + bs].tolist() for i in range(0, len(q), bs)]
            neg = None
            if isinstance(cfg, dict):
                m = HardNegativeMiner(num_negatives=1, seed=seed, **cfg).fit(qv, dv, (q, p), doc_texts=texts)
                neg = m.negatives_[:, 0]
                # pairs come back grouped by query; map to the training rows
                key = {(a, b): i for i, (a, b) in enumerate(zip(m.query_.tolist(), m.positive_.tolist()))}
                idx = np.array([key[(a, b)] for a, b in zip(q.tolist(), p.tolist())])
                neg = neg[idx]
                ok = neg >= 0
                neg = np.where(ok, neg, p)  # no negative found: the positive again (a no-op column)
            elif cfg == "tasb":
                batches = list(TASBComposer(batch_size=bs, seed=seed).fit(qv[q]))
            elif cfg == "ngame":
                m = HardNegativeMiner(num_negatives=3, relative_margin=0.05).fit(qv, dv, (q, p), doc_texts=texts)
                key = {(a, b): i for i, (a, b) in enumerate(zip(m.query_.tolist(), m.positive_.tolist()))}
                idx = np.array([key[(a, b)] for a, b in zip(q.tolist(), p.tolist())])
                batches = list(NGAMEComposer(batch_size=bs, seed=seed).fit(p, m.negatives_[idx]))
            w = _train(qv, dv, q, p, neg, batches, epochs, seed)
            res.append(_evaluate(qv, dv, w, col))
        rows.append((name, res, time.perf_counter() - t0))
        a = np.array(res)
        print(f"{name}: nDCG@10 {a[:, 0].mean():.4f} MRR@10 {a[:, 1].mean():.4f} ({rows[-1][2]:.0f} s)", flush=True)
    lines = [
        "## Negatives (b): which negatives help a small retriever (BBC title -> body)",
        "",
        f"{len(np.unique(q)):,} training queries ({len(q):,} pairs), "
        f"{len(np.unique(_rows(col, 'test')[0])):,} held-out queries, corpus {len(dv):,} bodies. Linear adapter over "
        f"frozen all-MiniLM-L6-v2 vectors, MNRL softmax (scale 20), batch {bs}, {epochs} epochs, Adam 1e-3; "
        f"one mined negative per pair (miner on the same MiniLM vectors); {seeds} seeds "
        "(seed = batch order, sampling and miner seed). Metrics from `ranx` on the held-out queries.",
        "",
        "| negatives | nDCG@10 (mean ± sd) | MRR@10 (mean ± sd) | seconds (all seeds) |",
        "|---|---:|---:|---:|",
    ]
    for name, res, sec in rows:
        a = np.array(res)
        lines.append(f"| {name} | {a[:, 0].mean():.4f} ± {a[:, 0].std():.4f} | "
                     f"{a[:, 1].mean():.4f} ± {a[:, 1].std():.4f} | {sec:.1f} |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    what = argv[0] if argv and argv[0] in ("speed", "quality") else "both"
    rest = argv[1:] if what != "both" else argv
    parts = []
    if what in ("speed", "both"):
        parts.append(speed(rest if what == "speed" else []))
    if what in ("quality", "both"):
        parts.append(quality(rest if what == "quality" else []))
    write_markdown(f"negatives-{what}", "\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
