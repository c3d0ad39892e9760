"""Probe (not adopted): kernel variants for label-free herding at 1% of Fashion-MNIST (issue 14, ninth pass).

Label-free ``auto`` must reach 79.09% with 600 rows of Fashion-MNIST (PCA-64 of pixels); plain
exact Gaussian herding at width 0.25 x the median distance reaches 78.80 (seventh pass). This
probe runs the same deterministic greedy MMD over all 60,000 rows with other kernels and targets,
each pick scored by the ``selection_quality`` logistic regression:

* a multi-scale kernel, the mean of Gaussians of widths 0.15, 0.25 and 0.4 x the median;
* a locally scaled Gaussian (Zelnik-Manor & Perona 2004), ``exp(-d^2 / (2 c^2 s_i s_j))`` with
  ``s_i`` the distance from row ``i`` to its 7th nearest neighbour;
* Gaussians on the unit-normalised vectors (cosine geometry);
* a sharpened or flattened target: the kernel mean of the data weighted by ``density ** (beta - 1)``
  (``density`` the row's own kernel mean), so that herding matches ``p(x) ** beta`` instead of ``p(x)``:
  ``beta > 1`` favours typical rows, as "Beyond neural scaling laws" prescribes for small budgets.

Run (about 8 minutes on 2 cores; not part of ``python -m bench all``):
``python -m bench._probe_kernel_variants``
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def kernel_means(x: np.ndarray, kernel: Kernel, scale: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_j weights[j] * kernel(x_i, x_j)`` for every row ``i``, in blocks of 1,000 rows."""
    sq = np.einsum("ij,ij->i", x, x)
    return np.concatenate([kernel(np.maximum(sq[s:s + 1000, None] + sq - 2 * x[s:s + 1000] @ x.T, 0),
                                  scale[s:s + 1000, None], scale) @ weights for s in range(0, len(x), 1000)])


def herd(x: np.ndarray, k: int, kernel: Kernel, scale: np.ndarray | None = None,
         mean: np.ndarray | None = None) -> np.ndarray:
    """Plain greedy MMD towards ``mean`` (default: the data's kernel mean); the kernel's diagonal is 1."""
    scale = np.ones(len(x), np.float32) if scale is None else scale
    if mean is None:
        mean = kernel_means(x, kernel, scale, np.full(len(x), 1 / len(x), np.float32))
    sq = np.einsum("ij,ij->i", x, x)
    acc, picks = np.zeros(len(x)), []
    for t in range(k):
        j = int(np.argmax(mean - acc / (t + 1)))
        picks.append(j)
        acc += kernel(np.maximum(sq + sq[j] - 2 * x @ x[j], 0), scale, scale[j])
        acc[j] = np.inf
    return np.asarray(picks)


def gaussian(width: float) -> Kernel:
    gamma = 0.5 / width ** 2
    return lambda d2, si, sj: np.exp(-gamma * d2)


def main(argv: list[str]) -> None:
    import faiss

    from bench.selection_quality import accuracy, fashion
    from datadiet.select._herding import median_distance

    x, y, xt, yt, _ = fashion()
    k = 600
    med = median_distance(x, 0)

    def row(name: str, picked: np.ndarray) -> None:
        print(f"| {name} | {100 * accuracy(x, y, xt, yt, picked):.2f} |", flush=True)

    g = gaussian(0.25 * med)
    ones = np.ones(len(x), np.float32)
    density = kernel_means(x, g, ones, np.full(len(x), 1 / len(x), np.float32))  # the data's kernel mean
    print("| selection (600 rows, 1%) | accuracy % |\n|---|---|")
    row("exact Gaussian herding, width 0.25 x median (seventh pass: 78.80)", herd(x, k, g, mean=density))
    parts = [gaussian(w * med) for w in (0.15, 0.25, 0.4)]
    row("multi-scale: mean of Gaussians 0.15 / 0.25 / 0.4 x median",
        herd(x, k, lambda d2, si, sj: sum(g(d2, si, sj) for g in parts) / 3))
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    s7 = np.sqrt(np.maximum(index.search(x, 8)[0][:, 7], 1e-12)).astype(np.float32)
    for c in (1.0, 2.0, 3.0):
        row(f"locally scaled Gaussian, c = {c:g}",
            herd(x, k, lambda d2, si, sj, c=c: np.exp(-d2 / (2 * c * c * si * sj)), s7))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    unit_med = median_distance(unit, 0)
    for w in (0.2, 0.3, 0.4):
        row(f"Gaussian on unit vectors, width {w:g} x median", herd(unit, k, gaussian(w * unit_med)))
    for beta in (0.5, 1.5, 2.0, 3.0):
        w = density ** (beta - 1)
        row(f"target p(x)^{beta:g}, width 0.25 x median",
            herd(x, k, g, mean=kernel_means(x, g, ones, (w / w.sum()).astype(np.float32))))


if __name__ == "__main__":
    main(sys.argv[1:])
