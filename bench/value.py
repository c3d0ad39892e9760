"""Issue 15: data valuation, coresets, SMOTE family, equitable allocation, mixture laws on real data.

Parts (``--parts``, default all), each one table over ``--seeds`` seeds (mean ± std):

* ``noise``: Fashion-MNIST (pixels/255 -> PCA-64), 10,000 training rows with 10 % of the labels
  flipped to another class; precision at k (k = flipped rows) of the k lowest-valued rows:
  KNN-Shapley (rows value each other; and against 1,000 clean test rows) vs cleanlab 2.9
  ``find_label_issues`` on 5-fold out-of-sample logistic-regression probabilities.
* ``speed``: exact KNN-Shapley seconds per validation row and peak RSS at 100,000 and
  1,000,000 training rows (Fashion-MNIST PCA-64 rows, tiled with small noise past 60,000),
  and the faiss top-T mode (T = 1,000) over 1,000 validation rows.
* ``imbalance``: Fashion-MNIST PCA-32 with classes 0-4 cut to 60 rows each (5 x 60 vs 5 x 2,000);
  logistic regression after: nothing, SMOTE, Borderline-SMOTE, ADASYN (datadiet.balance.SMOTEResampler),
  upsample / upweight / downsample (GroupBalanceSelector, alpha=0); minority-class recall, macro-F1,
  macro one-vs-rest ROC AUC on the full 10,000-row test set.
* ``coreset``: Fashion-MNIST PCA-64 logistic regression; coresets of 1 % and 5 % (sensitivity,
  leverage, uniform), weighted fit; ratio of the full-data log loss of the coreset model to that of
  the full-data model (1.0 is perfect).
* ``equitable``: Fashion-MNIST classes as groups, pilot runs at 20/40/80 per class, budget 1,000
  examples: equal, proportional and equitable (worst-group) allocation; per-class test recall,
  worst-class recall.

* ``mixture``: BBC News topics as domains; 16 proxy runs (logistic regression on 250 articles);
  exponential (Data Mixing Laws) vs LightGBM (RegMix) law: leave-one-out fit quality, and the
  target loss of the proposed mixture vs the best proxy run and the uniform mixture.

Run: ``python -m bench value [--parts noise,speed,imbalance,coreset,equitable,mixture] [--seeds 3]``
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bench._util import peak_rss_mb, write_markdown  # noqa: E402


def _fashion(dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.decomposition import PCA

    from datadiet._testing import fashion_mnist

    x, y = fashion_mnist("train")
    xt, yt = fashion_mnist("test")
    x = x.reshape(len(x), -1).astype(np.float32) / 255
    xt = xt.reshape(len(xt), -1).astype(np.float32) / 255
    pca = PCA(dim, random_state=0).fit(x[:20000])
    return pca.transform(x).astype(np.float32), y.astype(np.int64), pca.transform(xt).astype(np.float32), \
        yt.astype(np.int64)


def _ms(v: list[float], fmt: str = "{:.3f}") -> str:
    a = np.asarray(v, dtype=np.float64)
    return (fmt + " ± " + fmt).format(a.mean(), a.std())


def _rows(res: dict[str, dict[str, list[float]]], cols: list[str], count_col: str = "") -> list[str]:
    """One Markdown row per method: mean ± std of each column (the count column without decimals)."""
    return [f"| {m} | " + " | ".join(_ms(r[c], "{:.0f}" if c == count_col else "{:.3f}") for c in cols) + " |"
            for m, r in res.items()]


def _aum(X: np.ndarray, Y: np.ndarray, seed: int, epochs: int = 30) -> np.ndarray:
    """AUM from the dynamics recorder over a softmax regression trained by mini-batch SGD (numpy)."""
    import tempfile

    from datadiet.train import DynamicsRecorder

    rng = np.random.default_rng(seed)
    n, d = X.shape
    c = int(Y.max()) + 1
    W = np.zeros((d, c))
    b = np.zeros(c)
    with tempfile.TemporaryDirectory() as tmp:
        rec = DynamicsRecorder(n, c, tmp, max_epochs=epochs)
        for ep in range(epochs):
            for idx in np.array_split(rng.permutation(n), n // 128):
                logits = X[idx] @ W + b
                rec.record(ep, idx, logits, Y[idx])
                p = np.exp(logits - logits.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                p[np.arange(len(idx)), Y[idx]] -= 1
                W -= 0.1 * (X[idx].T @ p / len(idx) + 1e-4 * W)
                b -= 0.1 * p.mean(0)
        return rec.scores()["aum"]


def part_noise(seeds: int) -> str:
    from cleanlab.filter import find_label_issues
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from datadiet.value import KNNShapley

    x, y, xt, yt = _fashion(64)
    res: dict[str, list[float]] = {}
    times: dict[str, list[float]] = {}
    n, n_flip = 10_000, 1_000
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        rows = rng.choice(len(y), n, replace=False)
        X, Y = x[rows], y[rows].copy()
        flip = rng.choice(n, n_flip, replace=False)
        Y[flip] = (Y[flip] + rng.integers(1, 10, n_flip)) % 10
        is_flip = np.zeros(n, bool)
        is_flip[flip] = True
        vrows = rng.choice(len(yt), 1000, replace=False)

        def prec(order: np.ndarray, is_flip: np.ndarray = is_flip) -> float:
            return float(is_flip[order[:n_flip]].mean())

        t = time.perf_counter()
        v_self = KNNShapley(k=10, metric="l2").fit(X, Y).values_
        times.setdefault("KNN-Shapley (rows value each other)", []).append(time.perf_counter() - t)
        res.setdefault("KNN-Shapley (rows value each other)", []).append(prec(np.argsort(v_self, kind="stable")))
        t = time.perf_counter()
        v_val = KNNShapley(k=10, metric="l2").fit(X, Y, xt[vrows], yt[vrows]).values_
        times.setdefault("KNN-Shapley (1,000 clean validation rows)", []).append(time.perf_counter() - t)
        res.setdefault("KNN-Shapley (1,000 clean validation rows)", []).append(prec(np.argsort(v_val,
                                                                                                kind="stable")))
        t = time.perf_counter()
        probs = cross_val_predict(LogisticRegression(max_iter=500), X, Y, cv=5, method="predict_proba")
        ranked = find_label_issues(Y, probs, return_indices_ranked_by="self_confidence")
        # cleanlab flags a set; rank the rest by self-confidence so precision at k is defined
        conf = probs[np.arange(n), Y]
        order = np.r_[ranked, np.setdiff1d(np.argsort(conf, kind="stable"), ranked, assume_unique=True)]
        order = np.asarray(order[:n], dtype=np.int64)
        times.setdefault("cleanlab 2.9 (5-fold LR probabilities)", []).append(time.perf_counter() - t)
        res.setdefault("cleanlab 2.9 (5-fold LR probabilities)", []).append(prec(order))
        t = time.perf_counter()
        aum = _aum(X, Y, seed)
        times.setdefault("AUM (DynamicsRecorder, softmax regression, 30 epochs)", []).append(time.perf_counter() - t)
        res.setdefault("AUM (DynamicsRecorder, softmax regression, 30 epochs)", []).append(
            prec(np.argsort(aum, kind="stable")))
        res.setdefault("random", []).append(n_flip / n)
        times.setdefault("random", []).append(0.0)
    lines = ["### Finding flipped labels (Fashion-MNIST PCA-64, 10,000 rows, 10 % flipped)", "",
             f"Precision at k = {n_flip:,} (share of the k lowest-valued / most suspicious rows that were flipped), "
             f"{seeds} seeds.", "",
             "| method | precision at k | seconds |", "|---|---|---|"]
    for m in res:
        lines.append(f"| {m} | {_ms(res[m])} | {_ms(times[m], '{:.1f}')} |")
    return "\n".join(lines)


def part_speed(seeds: int) -> str:
    from datadiet.value import KNNShapley

    x, y, xt, yt = _fashion(64)
    lines = ["### KNN-Shapley speed (PCA-64 rows, k = 10)", "",
             "| training rows | mode | validation rows | seconds | seconds per validation row | peak RSS (MB) |",
             "|---|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    for n in (100_000, 1_000_000):
        reps = int(np.ceil(n / len(x)))
        X = np.tile(x, (reps, 1))[:n]
        X[len(x):] += rng.normal(scale=0.05, size=(n - len(x), X.shape[1])).astype(np.float32)
        Y = np.tile(y, reps)[:n]
        for mode, m, k_star in (("exact", 100 if n > 100_000 else 200, None), ("faiss top-1000", 1000, 1000)):
            t = time.perf_counter()
            KNNShapley(k=10, metric="l2", k_star=k_star).fit(X, Y, xt[:m], yt[:m])
            dt = time.perf_counter() - t
            lines.append(f"| {n:,} | {mode} | {m:,} | {dt:.1f} | {dt / m:.3f} | {peak_rss_mb():.0f} |")
    return "\n".join(lines)


def part_imbalance(seeds: int) -> str:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, recall_score, roc_auc_score

    from datadiet.balance import GroupBalanceSelector, SMOTEResampler

    x, y, xt, yt = _fashion(32)
    res: dict[str, dict[str, list[float]]] = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        rows = np.concatenate([rng.choice(np.flatnonzero(y == c), 60 if c < 5 else 2000, replace=False)
                               for c in range(10)])
        X, Y = x[rows], y[rows]

        def score(name: str, Xf: np.ndarray, Yf: np.ndarray, w: np.ndarray | None = None) -> None:
            model = LogisticRegression(max_iter=1000).fit(Xf, Yf, sample_weight=w)
            pred = model.predict(xt)
            rec = recall_score(yt, pred, average=None)
            r = res.setdefault(name, {})
            r.setdefault("minority recall", []).append(float(rec[:5].mean()))
            r.setdefault("majority recall", []).append(float(rec[5:].mean()))
            r.setdefault("macro-F1", []).append(float(f1_score(yt, pred, average="macro")))
            r.setdefault("ROC AUC", []).append(float(roc_auc_score(yt, model.predict_proba(xt), multi_class="ovr")))
            r.setdefault("train rows", []).append(float(len(Yf)))

        score("none", X, Y)
        for s in ("smote", "borderline-smote", "adasyn"):
            r = SMOTEResampler(sampler=s, seed=seed).fit(X, Y)
            score(s, r.X_, r.y_)
        n_max = 2000 * 10
        up = GroupBalanceSelector(budget=n_max, alpha=0.0, mode="upsample", seed=seed).fit(groups=Y)
        idx = np.repeat(up.selected_indices_, up.repeats_)
        score("upsample", X[idx], Y[idx])
        uw = GroupBalanceSelector(budget=n_max, alpha=0.0, mode="upweight", seed=seed).fit(groups=Y)
        score("upweight", X[uw.selected_indices_], Y[uw.selected_indices_], uw.weights_)
        down = GroupBalanceSelector(budget=600, alpha=0.0, seed=seed).fit(groups=Y)
        score("downsample", X[down.selected_indices_], Y[down.selected_indices_])
    cols = ["minority recall", "majority recall", "macro-F1", "ROC AUC", "train rows"]
    lines = ["### SMOTE vs upsample vs upweight vs downsample (Fashion-MNIST PCA-32, classes 0-4: 60 rows, "
             "5-9: 2,000)", "", f"Logistic regression, full 10,000-row test set, {seeds} seeds.", "",
             "| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += _rows(res, cols, "train rows")
    return "\n".join(lines)


def part_coreset(seeds: int) -> str:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    from datadiet.value import CoresetSelector

    x, y, _, _ = _fashion(64)
    x = x / np.sqrt((x**2).sum(1).mean())
    full = LogisticRegression(max_iter=1000, C=1.0).fit(x, y)
    base = log_loss(y, full.predict_proba(x))
    res: dict[tuple[str, float], list[float]] = {}
    for seed in range(seeds):
        for frac in (0.01, 0.05):
            for score in ("sensitivity", "leverage", "uniform"):
                sel = CoresetSelector(budget=frac, score=score, seed=seed).fit(vectors=x, groups=y)
                idx, w = sel.selected_indices_, sel.weights_
                # Horvitz-Thompson weights (sum ~ n): the weighted objective, regulariser included,
                # is an unbiased estimate of the full-data one
                m = LogisticRegression(max_iter=1000, C=1.0).fit(x[idx], y[idx], sample_weight=w)
                res.setdefault((score, frac), []).append(log_loss(y, m.predict_proba(x)) / base)
    lines = ["### Coresets vs uniform at equal size (Fashion-MNIST PCA-64, logistic regression, 60,000 rows)", "",
             f"Full-data log loss of the model fit on the weighted coreset / that of the full-data model "
             f"({base:.4f}); 1.0 is perfect. {seeds} seeds.", "",
             "| coreset | 1 % (600 rows) | 5 % (3,000 rows) |", "|---|---|---|"]
    for score in ("sensitivity", "leverage", "uniform"):
        lines.append(f"| {score} | {_ms(res[(score, 0.01)], '{:.4f}')} | {_ms(res[(score, 0.05)], '{:.4f}')} |")
    return "\n".join(lines)


def part_equitable(seeds: int) -> str:
    from sklearn.linear_model import LogisticRegression

    from datadiet.balance import EquitableAllocator

    x, y, xt, yt = _fashion(64)
    names = [str(c) for c in range(10)]
    budget = 1000
    res: dict[str, dict[str, list[float]]] = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        pools = {g: rng.permutation(np.flatnonzero(y == int(g))) for g in names}

        def evaluate(counts: dict[str, int], pools: dict = pools) -> dict[str, float]:
            rows = np.concatenate([pools[g][: counts[g]] for g in names])
            pred = LogisticRegression(max_iter=1000).fit(x[rows], y[rows]).predict(xt)
            return {g: float((pred[yt == int(g)] == int(g)).mean()) for g in names}

        pilots = [evaluate({g: s for g in names}) for s in (20, 40, 80)]
        pilot = {g: ([20, 40, 80], [p[g] for p in pilots]) for g in names}
        equal = {g: budget // 10 for g in names}
        # proportional to the training distribution (balanced here), with a skewed pool it differs
        props = np.array([len(pools[g]) for g in names], float)
        from datadiet._core._allocate import round_preserving_sum

        prop = dict(zip(names, (int(v) for v in round_preserving_sum(props / props.sum() * budget,
                                                                     np.full(10, np.inf))), strict=True))
        eq = EquitableAllocator(budget=budget).fit(pilot).allocation_
        seq = EquitableAllocator(budget=budget).fit_sequential(evaluate, {g: [20, 40, 80] for g in names},
                                                                  rounds=3).allocation_
        for name, alloc in (("equal", equal), ("proportional", prop), ("equitable (worst group)", eq),
                            ("equitable, sequential (3 rounds)", seq)):
            acc = evaluate(alloc)
            r = res.setdefault(name, {})
            r.setdefault("worst-class recall", []).append(min(acc.values()))
            r.setdefault("mean recall", []).append(float(np.mean(list(acc.values()))))
            r.setdefault("hardest class", []).append(float(int(min(acc, key=acc.get))))
            r.setdefault("examples", []).append(float(sum(alloc.values())))
        last_alloc = eq
    cols = ["worst-class recall", "mean recall", "examples"]
    lines = ["### Equitable allocation (Fashion-MNIST PCA-64, classes as groups, 1,000 examples)", "",
             f"Pilot runs at 20/40/80 examples per class; logistic regression; per-class recall on the 10,000-row "
             f"test set; {seeds} seeds. Equitable allocation of the last seed: "
             + ", ".join(f"{g}: {v}" for g, v in last_alloc.items()) + "; sequential: "
             + ", ".join(f"{g}: {v}" for g, v in seq.items()) + ".", "",
             "| allocation | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += _rows(res, cols, "examples")
    return "\n".join(lines)


def part_mixture(seeds: int) -> str:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    from datadiet._testing import bbc_news
    from datadiet.balance import MixtureLaw
    from datadiet.signals import HashedEncoder

    bbc = bbc_news()
    texts = bbc.column("text").to_pylist()
    topics = np.asarray(bbc.column("topic").to_pylist())
    x = np.asarray(HashedEncoder(dim=128).fit([texts]).encode(texts), np.float32)
    names = sorted(set(topics))
    v = np.array([2.0 if g in ("politics", "tech") else 1.0 for g in names])
    v = v / v.sum()
    res: dict[str, dict[str, list[float]]] = {}
    for seed in range(seeds):
        perm = np.random.default_rng(seed).permutation(len(topics))
        train, test = perm[:1500], perm[1500:]
        pools = {g: train[topics[train] == g] for g in names}

        def run(mix: dict[str, float], pools: dict = pools, test: np.ndarray = test) -> list[float]:
            counts = {g: max(2, int(round(250 * mix[g]))) for g in names}
            rows = np.concatenate([pools[g][: counts[g]] for g in names])
            model = LogisticRegression(max_iter=300, C=10).fit(x[rows], topics[rows])
            proba = model.predict_proba(x[test])
            yt = topics[test]
            return [log_loss(yt[yt == g], proba[yt == g], labels=model.classes_) for g in names]

        uniform = float(np.dot(run({g: 0.2 for g in names}), v))
        for law in ("exponential", "lightgbm"):
            f = MixtureLaw(law=law, seed=seed, n_candidates=20_000).fit_runs(run, names, n_runs=16, loss_weights=v)
            target = f.runs_[1] @ v
            r = res.setdefault(law, {})
            r.setdefault("held-out Spearman", []).append(f.cv_["spearman"])
            r.setdefault("held-out MAE", []).append(f.cv_["mae"])
            r.setdefault("loss of proposal", []).append(float(np.dot(run(f.weights_), v)))
            r.setdefault("best proxy run", []).append(float(target.min()))
            r.setdefault("uniform mixture", []).append(uniform)
            res.setdefault("_w", {})[law] = [f.weights_[g] for g in names]  # type: ignore[assignment]
    last = res.pop("_w")
    cols = ["held-out Spearman", "held-out MAE", "loss of proposal", "best proxy run", "uniform mixture"]
    lines = ["### Mixture laws (BBC News topics as domains, 16 proxy runs)", "",
             "Proxy model: logistic regression on 250 articles (hashed 128-d) mixed from the 5 topics by a Dirichlet "
             "draw; loss: log loss on each topic's held-out articles, target = weighted sum (politics and tech "
             f"twice). Held-out: leave-one-out over the 16 runs. {seeds} seeds. Proposal of the last seed: "
             + "; ".join(f"{law}: " + ", ".join(f"{g} {w:.2f}" for g, w in zip(names, ws, strict=True))
                         for law, ws in last.items()) + ".", "",
             "| law | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += _rows(res, cols)
    return "\n".join(lines)


PARTS = {"mixture": part_mixture, "noise": part_noise, "speed": part_speed, "imbalance": part_imbalance, "coreset": part_coreset,
         "equitable": part_equitable}


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench value")
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args(argv)
    out = []
    for p in args.parts.split(","):
        t = time.perf_counter()
        text = PARTS[p](args.seeds)
        out.append(text + f"\n\n({p}: {time.perf_counter() - t:.0f} s)\n")
        print(out[-1], flush=True)
    write_markdown("value_" + "_".join(args.parts.split(",")), "\n".join(out))
