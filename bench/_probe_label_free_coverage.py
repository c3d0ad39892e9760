"""Probe (not adopted): label-free selections at 1% of Fashion-MNIST against the third-of-the-gap target.

Issue 14 asks label-free ``auto`` to reach 79.09% (a third of the gap from random, 76.98, to
full data, 83.30) with 600 rows of Fashion-MNIST (PCA-64 of pixels). This probe measures what
the seventh pass tried, each pick scored by the ``selection_quality`` logistic regression:

* kernel herding over all 60,000 rows with the kernel computed exactly (plain greedy MMD,
  deterministic): Gaussian kernels of width ``w`` x the median distance between rows, a
  Laplacian kernel, and the energy distance (support points);
* TypiClust (Hacohen et al. 2022): 600 k-means clusters, in each the row with the smallest
  mean distance to its 20 nearest neighbours in the cluster (seeds 0-4);
* ProbCover (Yehuda et al. 2022): greedy max coverage of balls of radius ``delta``, the median
  over rows of the distance to their ``K``-th nearest neighbour (deterministic).

Run (about 6 minutes on 2 cores; not part of ``python -m bench all``):
``python -m bench._probe_label_free_coverage``
"""

from __future__ import annotations

import sys

import numpy as np


def herd_exact(x: np.ndarray, k: int, kernel) -> np.ndarray:
    """Plain greedy MMD over all rows under ``kernel(squared distances)`` (its diagonal constant)."""
    sq = np.einsum("ij,ij->i", x, x)
    mean = np.concatenate([kernel(np.maximum(sq[s:s + 2000, None] + sq - 2 * x[s:s + 2000] @ x.T, 0)).mean(1)
                           for s in range(0, len(x), 2000)])
    acc, picks = np.zeros(len(x)), []
    for t in range(k):
        j = int(np.argmax(mean - acc / (t + 1)))
        picks.append(j)
        acc += kernel(np.maximum(sq + sq[j] - 2 * x @ x[j], 0))
        acc[j] = np.inf
    return np.asarray(picks)


def typiclust(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    from datadiet.index._kmeans import kmeans

    lab = np.asarray(kmeans(x, k, seed=seed, niter=50).labels)
    picks = []
    for c in np.unique(lab):
        mem = np.flatnonzero(lab == c)
        if len(mem) < 3:
            picks.append(mem[0])
            continue
        v = x[mem]
        d = np.sqrt(np.maximum((v * v).sum(1)[:, None] + (v * v).sum(1) - 2 * v @ v.T, 0))
        picks.append(mem[np.argmin(np.sort(d, 1)[:, 1:min(21, len(mem))].mean(1))])
    return np.asarray(picks)


def probcover(index, x: np.ndarray, k: int, radius2: float) -> tuple[np.ndarray, float]:
    import scipy.sparse as sp

    lims, _, nbr = index.range_search(x, radius2)
    n = len(x)
    ball = sp.csr_matrix((np.ones(len(nbr), np.int8), (np.repeat(np.arange(n), np.diff(lims.astype(np.int64))), nbr)),
                         shape=(n, n))
    inside = ball.T.tocsr()
    gain = np.diff(ball.indptr).astype(np.int64)
    covered, picks = np.zeros(n, bool), []
    for _ in range(k):
        p = int(np.argmax(gain))
        picks.append(p)
        new = ball.indices[ball.indptr[p]:ball.indptr[p + 1]]
        new = new[~covered[new]]
        covered[new] = True
        np.subtract.at(gain, inside[new].indices, 1)
        gain[p] = -1
    return np.asarray(picks), float(covered.mean())


def main(argv: list[str]) -> None:
    import faiss

    from bench.selection_quality import accuracy, fashion
    from datadiet.select._herding import median_distance

    x, y, xt, yt, _ = fashion()
    k = 600
    med = median_distance(x, 0)
    print("| selection (600 rows, 1%) | accuracy % |\n|---|---|")
    for w in (0.2, 0.25, 0.3, 0.4, 0.5):
        picked = herd_exact(x, k, lambda d2, w=w: np.exp(-d2 / (2 * (w * med) ** 2)))
        print(f"| exact herding, Gaussian, width {w} x median | {100 * accuracy(x, y, xt, yt, picked):.2f} |", flush=True)
    for w in (0.25, 0.5):
        picked = herd_exact(x, k, lambda d2, w=w: np.exp(-np.sqrt(d2) / (w * med)))
        print(f"| exact herding, Laplacian, width {w} x median | {100 * accuracy(x, y, xt, yt, picked):.2f} |", flush=True)
    picked = herd_exact(x, k, lambda d2: -np.sqrt(d2))
    print(f"| exact herding, energy distance | {100 * accuracy(x, y, xt, yt, picked):.2f} |", flush=True)
    accs = [accuracy(x, y, xt, yt, typiclust(x, k, s)) for s in range(5)]
    print(f"| TypiClust, seeds 0-4 (mean ± SE) | {100 * np.mean(accs):.2f} ± {100 * np.std(accs, ddof=1) / 5 ** 0.5:.2f} |")
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    dist = index.search(x, 51)[0]
    for kth in (5, 20, 50):
        picked, cover = probcover(index, x, k, float(np.median(dist[:, kth])))
        print(f"| ProbCover, radius = median distance to the {kth}th neighbour (covers {cover:.2f}) | "
              f"{100 * accuracy(x, y, xt, yt, picked):.2f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
