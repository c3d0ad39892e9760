"""Probe (not adopted): can a label-free check pick the better of several 1% selections of Fashion-MNIST?

With labels, ``auto`` trains a linear probe on each candidate and keeps the best; this asks whether
k-means clusters can stand in for the labels. For seeds 0-7, four candidates of 600 rows (1%):
``herding`` at bandwidth 0.35 and 0.5, ``prototypes`` and ``random``. Each is scored twice: the
``selection_quality`` logistic regression trained on its true labels (test accuracy), and the
same regression trained on its k-means cluster ids (K = 10, 20, 50, 100; two k-means seeds each)
and scored on the cluster ids of 20,000 other rows. Printed: the Spearman correlation of the two
scores over the 32 candidates, the mean test accuracy of the candidate the check picks per seed,
the best candidate per seed (an oracle), and each candidate's mean.

Run (about 3 minutes on 2 cores; not part of ``python -m bench all``):
``python -m bench._probe_pseudo_label_check``
"""

from __future__ import annotations

import sys

import numpy as np


def main(argv: list[str]) -> None:
    from scipy.stats import spearmanr
    from sklearn.linear_model import LogisticRegression

    from bench.selection_quality import accuracy, fashion
    from datadiet import select as S
    from datadiet.index._kmeans import kmeans
    from datadiet.signals import Signals

    x, y, xt, yt, _ = fashion()
    sig = Signals.from_arrays(np.arange(len(x)), vectors=x)
    seeds = range(8)
    makers = {"herding 0.35": lambda s: S.HerdingSelector(budget=600, seed=s, metric="l2", bandwidth=0.35),
              "herding 0.5": lambda s: S.HerdingSelector(budget=600, seed=s, metric="l2", bandwidth=0.5),
              "prototypes": lambda s: S.PrototypeSelector(budget=600, seed=s, metric="l2"),
              "random": lambda s: S.RandomSelector(budget=600, seed=s)}
    picks = np.array([[make(s).fit(sig).selected_indices_ for make in makers.values()] for s in seeds])
    true = np.array([[accuracy(x, y, xt, yt, p) for p in row] for row in picks])
    held = np.random.default_rng(1).choice(len(x), 20000, replace=False)
    print("| pseudo-labels | Spearman (check, test accuracy) | accuracy of the check's pick, mean over seeds |")
    print("|---|---|---|")
    for k in (10, 20, 50, 100):
        for ks in (100, 101):
            lab = np.asarray(kmeans(x, k, seed=ks, niter=30).labels)
            score = np.array([[LogisticRegression(max_iter=1000).fit(x[p], lab[p]).score(x[held], lab[held])
                               for p in row] for row in picks])
            rho = spearmanr(score.ravel(), true.ravel())[0]
            chosen = true[np.arange(len(seeds)), score.argmax(1)]
            print(f"| k-means K={k}, seed {ks} | {rho:.3f} | {100 * chosen.mean():.2f} |", flush=True)
    print(f"\nbest candidate per seed (oracle): {100 * true.max(1).mean():.2f}")
    for j, name in enumerate(makers):
        print(f"{name}: {100 * true[:, j].mean():.2f} ({', '.join(f'{100 * a:.2f}' for a in true[:, j])})")


if __name__ == "__main__":
    main(sys.argv[1:])
