"""Dedup vs PyPI ``datasketch`` (MinHash LSH) and ``semhash`` (semantic) on real text.

``python -m bench dedup [N_DOCS] [--skip-semantic]`` (default 200,000 documents of
``bench/_pool.py``).

(a) Near duplicates at Jaccard >= 0.8, 128 permutations, word 5-shingles of the
text lower-cased and split on whitespace (both tools get the same shingles;
datasketch chooses 9 bands x 13 rows, so does datadiet). Each tool runs end to
end in its own child process (shingling, signatures, LSH, clusters) and returns
a cluster label per document; datasketch's candidate pairs (query of every
document) are joined into clusters by connected components, as datadiet's are.

Reference: every pair with true Jaccard >= 0.8, found exactly (prefix filtering:
two sets with Jaccard >= t share a token among the first ``|A| - ceil(t|A|) + 1``
of each set in a global rare-first order; every candidate is then checked by its
true Jaccard). A tool's predicted pairs are the pairs inside its clusters; recall
= true pairs inside one cluster / true pairs, precision = true pairs inside one
cluster / predicted pairs (both exact, no sampling).

(b) Semantic duplicates at cosine >= 0.95 with the same local static model
(PyPI ``tokenlearn-static-model`` loaded by ``model2vec``) for both: semhash 0.5.0
``SemHash.from_records(records, model=StaticModel)`` + ``self_deduplicate``; datadiet
encodes with the same model and runs ``SemanticDedup``. Reference: every pair with
cosine >= 0.95 (exact faiss range search over all documents); the same pair
metrics.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from bench._pool import describe, load_pool
from bench._util import OUT, run_isolated, write_markdown

THRESHOLD = 0.8
COSINE = 0.95

_LOAD = """
import json, time, numpy as np, pyarrow.parquet as pq
from bench._pool import load_pool
texts = load_pool({n}).column("text").combine_chunks()
"""

OURS = _LOAD + """
from datadiet.dedup import NearDedup
from datadiet.signals import Signals
import scipy.sparse.csgraph  # imported before the timer, as in datasketch's child (datadiet imports it lazily)
t0 = time.perf_counter(); c0 = time.process_time()
d = NearDedup(threshold={t}, num_perm=128, shingle="word", ngram=5, normalize="lower,space",
              verify="{verify}").fit(Signals.from_arrays(text=texts))
wall = time.perf_counter() - t0; cpu = time.process_time() - c0
root = np.where(d.duplicate_of_ >= 0, d.duplicate_of_, np.arange(len(texts)))
np.save("{out}", root)
m = d.selection_.metrics
print(json.dumps({{"wall_s": wall, "cpu_s": cpu, "bands": m["lsh_bands"], "rows": m["lsh_rows"],
                  "dropped": int((d.duplicate_of_ >= 0).sum())}}))
"""

DATASKETCH = _LOAD + """
from datasketch import MinHash, MinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
docs = texts.to_pylist()
t0 = time.perf_counter(); c0 = time.process_time()
sets = []
for s in docs:
    w = s.lower().split()
    sets.append([" ".join(w[j:j + 5]).encode("utf8") for j in range(max(len(w) - 4, 1))] if w else [])
mhs = MinHash.bulk(sets, num_perm=128)
lsh = MinHashLSH(threshold={t}, num_perm=128)
with lsh.insertion_session() as sess:
    for i, m in enumerate(mhs):
        if sets[i]:
            sess.insert(i, m, check_duplication=False)
a, b = [], []
for i, m in enumerate(mhs):
    if sets[i]:
        for j in lsh.query(m):
            if j != i:
                a.append(i); b.append(j)
n = len(docs)
g = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
labels = connected_components(g, directed=False)[1]
wall = time.perf_counter() - t0; cpu = time.process_time() - c0
np.save("{out}", labels)
print(json.dumps({{"wall_s": wall, "cpu_s": cpu, "bands": lsh.b, "rows": lsh.r, "candidate_pairs": len(a) // 2}}))
"""

SEMHASH = _LOAD + """
import importlib.util
from model2vec import StaticModel
from semhash import SemHash
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
path = list(importlib.util.find_spec("static_model").submodule_search_locations)[0] + "/model"
docs = texts.to_pylist()
t0 = time.perf_counter()
model = StaticModel.from_pretrained(path)
records = [{{"id": str(i), "text": s}} for i, s in enumerate(docs)]
sh = SemHash.from_records(records, columns=["text"], model=model)
res = sh.self_deduplicate(threshold={c})
wall = time.perf_counter() - t0
a, b = [], []
for r in res.filtered:
    a.append(int(r.record["id"])); b.append(int(r.duplicate_of["id"]))
n = len(docs)
labels = connected_components(coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n)), directed=False)[1]
np.save("{out}", labels)
np.save("{dropped}", np.asarray(a, dtype=np.int64))
print(json.dumps({{"wall_s": wall, "dropped": len(res.filtered)}}))
"""

OURS_SEM = _LOAD + """
import importlib.util
from model2vec import StaticModel
from datadiet.dedup import SemanticDedup
from datadiet.signals import Signals
path = list(importlib.util.find_spec("static_model").submodule_search_locations)[0] + "/model"
t0 = time.perf_counter()
model = StaticModel.from_pretrained(path)
vec = np.asarray(model.encode(texts.to_pylist()), dtype=np.float32)
t_enc = time.perf_counter() - t0
np.save("{vec}", vec)
d = SemanticDedup(threshold={c}).fit(Signals.from_arrays(vectors=vec))
wall = time.perf_counter() - t0
root = np.where(d.duplicate_of_ >= 0, d.duplicate_of_, np.arange(len(texts)))
np.save("{out}", root)
np.save("{dropped}", np.flatnonzero(d.duplicate_of_ >= 0))
print(json.dumps({{"wall_s": wall, "encode_s": t_enc, "dropped": int((d.duplicate_of_ >= 0).sum())}}))
"""


def true_jaccard_pairs(texts, t: float) -> np.ndarray:
    """Every pair with Jaccard >= t (prefix filtering, then exact check)."""
    from datadiet.dedup import jaccard_pairs, shingle_hashes

    h, c = shingle_hashes(texts, normalize="lower,space")
    doc = np.repeat(np.arange(c.size, dtype=np.int64), c)
    codes = np.unique(h, return_inverse=True)[1].astype(np.int64)
    key = np.unique((doc << 32) | codes)
    doc, codes = key >> 32, key & 0xFFFFFFFF
    freq = np.bincount(codes)
    order = np.lexsort((codes, freq[codes], doc))  # per doc: rarest shingles first
    doc, codes = doc[order], codes[order]
    size = np.bincount(doc, minlength=c.size)
    start = np.cumsum(size) - size
    pos = np.arange(doc.size) - start[doc]
    prefix = size - np.ceil(t * size - 1e-9).astype(np.int64) + 1
    sel = pos < prefix[doc]
    pdoc, pcode = doc[sel], codes[sel]
    o = np.argsort(pcode, kind="stable")
    pdoc, pcode = pdoc[o], pcode[o]
    bounds = np.flatnonzero(np.diff(pcode)) + 1
    starts = np.r_[0, bounds]
    lens = np.diff(np.r_[starts, pcode.size])
    a_parts, b_parts = [], []
    for m in np.unique(lens[lens > 1]):
        g = starts[lens == m]
        iu, ju = np.triu_indices(int(m), 1)
        a_parts.append(pdoc[(g[:, None] + iu[None, :]).ravel()])
        b_parts.append(pdoc[(g[:, None] + ju[None, :]).ravel()])
    a = np.concatenate(a_parts) if a_parts else np.zeros(0, np.int64)
    b = np.concatenate(b_parts) if b_parts else np.zeros(0, np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pair = np.unique(lo * c.size + hi)
    lo, hi = pair // c.size, pair % c.size
    s_lo, s_hi = size[lo], size[hi]
    ok = (lo != hi) & (np.minimum(s_lo, s_hi) >= t * np.maximum(s_lo, s_hi) - 1e-9)
    lo, hi = lo[ok], hi[ok]
    jac = np.concatenate([jaccard_pairs(texts, lo[k:k + 2_000_000], hi[k:k + 2_000_000], normalize="lower,space")
                          for k in range(0, max(lo.size, 1), 2_000_000)]) if lo.size else np.zeros(0)
    return np.stack([lo[jac >= t], hi[jac >= t]], axis=1)


def true_cosine_pairs(vec: np.ndarray, t: float) -> np.ndarray:
    import faiss

    x = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)
    x = np.ascontiguousarray(x, dtype=np.float32)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    out = []
    for s in range(0, x.shape[0], 20000):
        lims, sims, idx = index.range_search(x[s:s + 20000], float(np.nextafter(np.float32(t), np.float32(-1))))
        q = s + np.repeat(np.arange(len(lims) - 1), np.diff(lims.astype(np.int64)))
        keep = (idx > q) & (sims >= t)
        out.append(np.stack([q[keep], idx[keep]], axis=1))
    return np.concatenate(out)


def pair_metrics(labels: np.ndarray, true: np.ndarray) -> dict[str, float]:
    sizes = np.bincount(labels)
    predicted = float((sizes * (sizes - 1) // 2).sum())
    hit = float((labels[true[:, 0]] == labels[true[:, 1]]).sum()) if len(true) else 0.0
    return {"recall": hit / max(len(true), 1), "precision": hit / predicted if predicted else 1.0,
            "predicted_pairs": predicted}


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv and argv[0].isdigit() else 200_000
    pool = load_pool(n)
    texts = pool.column("text").combine_chunks()
    lines = [f"Data: {describe(pool)}.", ""]
    OUT.mkdir(exist_ok=True)
    runs = {}
    near_cases = () if "--skip-near" in argv else (
        ("datadiet", OURS.format(n=n, t=THRESHOLD, verify="jaccard", out=OUT / "dd_near.npy")),
        ("datadiet (no verification)", OURS.format(n=n, t=THRESHOLD, verify="none", out=OUT / "dd_near_nv.npy")),
        ("datasketch 2.0.0", DATASKETCH.format(n=n, t=THRESHOLD, out=OUT / "ds_near.npy")))
    for name, code in near_cases:
        load = os.getloadavg()[0]  # the machine is shared: the 1-minute load average as each child starts
        runs[name] = {**run_isolated(code), "load": load}
        print(name, runs[name], flush=True)
    if near_cases:
        _near_table(lines, runs, texts)
    if "--skip-semantic" not in argv:
        _semantic_table(lines, n)
    write_markdown("dedup", "\n".join(lines) + "\n")


def _near_table(lines: list[str], runs: dict, texts) -> None:
    t0 = time.perf_counter()
    true = true_jaccard_pairs(texts, THRESHOLD)
    ref_s = time.perf_counter() - t0
    files = {"datadiet": "dd_near.npy", "datadiet (no verification)": "dd_near_nv.npy",
             "datasketch 2.0.0": "ds_near.npy"}
    ds_wall = runs["datasketch 2.0.0"]["wall_s"]
    lines += [f"### (a) near duplicates, Jaccard >= {THRESHOLD}, 128 permutations, word 5-shingles",
              "", f"Reference: {len(true):,} document pairs with true Jaccard >= {THRESHOLD} "
              f"(exact, prefix filtering + true Jaccard, {ref_s:.1f} s).", "",
              "| tool | bands x rows | wall (s) | speed-up vs datasketch | CPU s (all threads) | CPU speed-up | "
              "peak RSS (MB) | pair recall | pair precision | docs dropped | load avg at start |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in runs.items():
        lab = np.load(OUT / files[name])
        m = pair_metrics(lab, true)
        dropped = int(lab.size - np.unique(lab).size)
        ds_cpu = runs["datasketch 2.0.0"]["cpu_s"]
        lines.append(f"| {name} | {r['bands']} x {r['rows']} | {r['wall_s']:.2f} | {ds_wall / r['wall_s']:.1f}x | "
                     f"{r['cpu_s']:.2f} | {ds_cpu / r['cpu_s']:.1f}x | {r['peak_rss_mb']:.0f} | {m['recall']:.4f} | "
                     f"{m['precision']:.4f} | {dropped:,} | {r['load']:.1f} |")


def _semantic_table(lines: list[str], n: int) -> None:
    import os

    from datadiet.dedup._semantic import greedy_links

    load = [os.getloadavg()]
    sem = {"datadiet": run_isolated(OURS_SEM.format(n=n, c=COSINE, vec=OUT / "vec.npy", out=OUT / "dd_sem.npy",
                                                    dropped=OUT / "dd_sem_dropped.npy"))}
    load.append(os.getloadavg())
    sem["semhash 0.5.0"] = run_isolated(SEMHASH.format(n=n, c=COSINE, out=OUT / "sh_sem.npy",
                                                      dropped=OUT / "sh_sem_dropped.npy"))
    load.append(os.getloadavg())
    print(sem, flush=True)
    t0 = time.perf_counter()
    ref = true_cosine_pairs(np.load(OUT / "vec.npy"), COSINE)
    ref_s = time.perf_counter() - t0
    # the reference dedup: greedy keep in row order (first seen kept) over every exact pair
    ref_drop, _ = greedy_links(ref[:, 0], ref[:, 1], np.arange(n))
    ref_set = set(ref_drop.tolist())
    sh_wall = sem["semhash 0.5.0"]["wall_s"]
    lines += ["", f"### (b) semantic duplicates, cosine >= {COSINE}, static 64-d model (both tools)", "",
              f"Reference: {len(ref):,} pairs with cosine >= {COSINE} (exact range search over all documents, "
              f"{ref_s:.1f} s).", "",
              f"Reference dedup: greedy keep in row order over every exact pair: {len(ref_set):,} documents "
              "dropped. Dropped-set agreement: precision = share of a tool's dropped documents the reference "
              "drops, recall = share of the reference's dropped documents the tool drops.", "",
              "Load average (1 / 5 / 15 min) before datadiet, before semhash, after semhash: "
              + "; ".join(" / ".join(f"{v:.2f}" for v in la) for la in load) + ".", "",
              "| tool | wall (s, incl. encoding) | of which encoding (s) | wall vs semhash | peak RSS (MB) | "
              "dropped-set precision | dropped-set recall | dropped-set F1 | pair recall | pair precision | "
              "docs dropped |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, f, fd in (("datadiet", "dd_sem.npy", "dd_sem_dropped.npy"),
                        ("semhash 0.5.0", "sh_sem.npy", "sh_sem_dropped.npy")):
        r = sem[name]
        lab = np.load(OUT / f)
        m = pair_metrics(lab, ref)
        dropped = set(np.load(OUT / fd).tolist())
        both = len(dropped & ref_set)
        prec, rec = both / max(len(dropped), 1), both / max(len(ref_set), 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-12)
        enc = f"{r['encode_s']:.2f}" if "encode_s" in r else "(inside)"
        lines.append(f"| {name} | {r['wall_s']:.2f} | {enc} | {r['wall_s'] / sh_wall:.2f}x | {r['peak_rss_mb']:.0f} | "
                     f"{prec:.4f} | {rec:.4f} | {f1:.4f} | {m['recall']:.4f} | {m['precision']:.4f} | "
                     f"{len(dropped):,} |")


if __name__ == "__main__":
    main(sys.argv[1:])
