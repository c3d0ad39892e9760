"""Probe (not adopted): label-free kernel herding inside spectral clusters, Fashion-MNIST at 1%.

Issue 14 asks label-free ``auto`` to close a third of the random-to-full gap at 1% of
Fashion-MNIST. With labels, herding inside each class does it; this probe asks whether
clusters of a k-nearest-neighbour graph (spectral clustering, which follows the data's
manifold better than k-means on PCA-64 pixels) can stand in for the labels.

For every graph (``K`` neighbours, self-tuning Gaussian weights, symmetric) and number of
eigenvectors ``M`` of its normalised adjacency, the row-normalised eigenvectors are
clustered by k-means into ``C`` clusters (seeded per run) and :func:`herd_groups` herds
inside each cluster for its proportional share, on the PCA-64 vectors. Each pick is scored
by the same logistic regression as ``selection_quality``. Printed: mean test accuracy ±
standard error over seeds, and the clusters' purity against the labels.

A second table herds over k-means representatives instead: ``C`` clusters of the PCA-64
vectors, the row nearest each centroid standing for its cluster's rows (herding weighted
by cluster size), so the picks are typical like prototypes and spread like herding.

The figures in ``BENCHMARKS.md`` (fifth pass) were measured at commit 1575caa, when herding used
1,024 random Fourier features; since then it computes the kernel exactly, so a rerun differs.

Run (9.5 minutes on 2 cores; not part of ``python -m bench all``):
``python -m bench._probe_spectral_herding [--seeds 5] [--budget 600]``
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def spectral_embedding(x: np.ndarray, dist: np.ndarray, nbr: np.ndarray, k: int, m: int) -> np.ndarray:
    """Row-normalised top-``m`` eigenvectors of the normalised ``k``-NN adjacency (Ng, Jordan and Weiss)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh

    n = len(x)
    d2, cols = dist[:, 1:k + 1], nbr[:, 1:k + 1].ravel()
    scale = np.sqrt(d2[:, -1])
    w = np.exp(-d2.ravel() / (scale.repeat(k) * scale[cols] + 1e-9))
    adj = sp.csr_matrix((w, (np.repeat(np.arange(n), k), cols)), shape=(n, n))
    adj = adj.maximum(adj.T)
    inv = sp.diags(1 / np.sqrt(np.asarray(adj.sum(1)).ravel()))
    vals, vecs = eigsh(inv @ adj @ inv, k=m, which="LA", tol=1e-4, v0=np.ones(n))  # fixed start: reproducible
    vecs = vecs[:, np.argsort(-vals)]
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def main(argv: list[str]) -> None:
    import faiss

    from bench.selection_quality import accuracy, fashion, select
    from datadiet._core._allocate import round_preserving_sum
    from datadiet.index._kmeans import kmeans
    from datadiet.select._herding import herd_groups, herd_kernel

    ap = argparse.ArgumentParser(prog="python -m bench._probe_spectral_herding")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=600)
    a = ap.parse_args(argv)
    x, y, xt, yt, metric = fashion()
    n, seeds = len(x), range(a.seeds)
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    dist, nbr = index.search(x, 21)

    def report(name: str, accs: list[float], extra: str = "") -> None:
        print(f"| {name} | {100 * np.mean(accs):.2f} ± {100 * np.std(accs, ddof=1) / np.sqrt(len(accs)):.2f} | {extra} |",
              flush=True)

    print("| selection | accuracy % (mean ± SE) | cluster purity |\n|---|---|---|")
    for m in ("random", "auto"):
        report(m, [accuracy(x, y, xt, yt, select(m, x, y, a.budget, s, metric)) for s in seeds])
    for k in (10, 20):
        for dims in (16, 32, 64):
            emb = spectral_embedding(x, dist, nbr, k, dims)
            for c in (10, 15, 20, 30):
                accs, purity = [], []
                for s in seeds:
                    lab = np.asarray(kmeans(emb, c, seed=s, niter=30).labels)
                    purity.append(sum(np.bincount(y[lab == j]).max() for j in np.unique(lab)) / n)
                    sizes = np.bincount(lab)
                    quota = round_preserving_sum(sizes * (a.budget / n), sizes)
                    picked = herd_groups(x, np.arange(n), lab, quota, metric="l2", seed=s)[0]
                    accs.append(accuracy(x, y, xt, yt, picked))
                report(f"K={k}, M={dims}, C={c}", accs, f"{np.mean(purity):.3f}")
    rng = np.random.default_rng(0)
    pairs = x[rng.choice(n, 2000, replace=False)]
    median = float(np.median(np.linalg.norm(pairs[:1000] - pairs[1000:], axis=1)))
    print("\n| herding over k-means representatives | accuracy % (mean ± SE) | |\n|---|---|---|")
    for c in (1200, 3000, 6000):
        for width in (0.25, 0.5):
            accs = []
            for s in seeds:
                km = kmeans(x, c, seed=s, niter=20)
                reps = index.search(np.asarray(km.centroids, dtype=np.float32), 1)[1][:, 0]
                counts = np.bincount(np.asarray(km.labels), minlength=c)
                picked = reps[herd_kernel(x[reps], counts, a.budget, width * median)]
                accs.append(accuracy(x, y, xt, yt, picked))
            report(f"C={c}, width {width} x median distance", accs)


if __name__ == "__main__":
    main(sys.argv[1:])
