"""Issue 12: train-time data steering, real training on CPU (Fashion-MNIST, a small torch MLP).

The training set is a random subset of ``--n`` of the 60,000 Fashion-MNIST
training images (keyed by seed 0; the whole 10,000-image test set is used),
pixels/255 standardised; the model is an MLP 784-256-256-10 (ReLU), AdamW
(lr 2e-3, weight decay 1e-4), batch 128, a step-based cosine schedule over the
run's total steps, ``--epochs`` epochs, ``--seeds`` seeds. Four tables:

1. InfoBatch (exact-budget mode, epoch lengths announced in advance so the
   cosine schedule knows its total steps; and the reference mode without a
   budget, its cosine over the planned epochs' progress) vs full training:
   forward passes saved (real), test accuracy, wall time.
2. RS2 at 10% and 30% per round (``--epochs`` rounds) vs a static random
   subset of the same size for the same steps, vs full data for the same steps.
3. Group sampling on a made-imbalanced copy (classes 0-4 cut to 5%): natural
   mix, downsample / upsample / upweight at alpha 0.3, and upsample with
   Cooldown (alpha 0.3 -> 1 over the last 30% of epochs), upsample at alpha 0
   (uniform) and with Cooldown 0 -> 0.3; per-class and mean test accuracy.
4. Label noise: 10% of the training labels flipped to another class. Scores
   from one recorded run (AUM, data-map confidence, EL2N, forgetting) and
   cleanlab's label-quality ranking from 2-fold cross-validated probabilities
   of the same model; precision at k = number flipped; AUM's threshold-example
   procedure (a second run, 1/11 of the examples relabelled to an 11th class,
   99th percentile cut-off); test accuracy after removing the top k vs not.

Run: ``python -m bench train [--n 16000] [--epochs 10] [--ib-epochs 12] [--noise-epochs 8] [--seeds 3]
[--parts infobatch,rs2,group,noise] [--more]``
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bench._util import write_markdown  # noqa: E402

BS = 128
LR = 2e-3
MORE = False  # --more: the InfoBatch 0.60 budget and two more Cooldown rows (about 4 more minutes)


def load(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from datadiet._core import uniform_keys
    from datadiet._testing import fashion_mnist

    x, y = fashion_mnist("train")
    xt, yt = fashion_mnist("test")
    pick = np.sort(np.argsort(uniform_keys(np.arange(len(y)), 0), kind="stable")[:n])
    x, y = x[pick].astype(np.float32) / 255.0, y[pick].astype(np.int64)
    mu, sd = x.mean(), x.std()
    return (x - mu) / sd, y, (xt.astype(np.float32) / 255.0 - mu) / sd, yt.astype(np.int64)


def model(num_classes: int, seed: int) -> Any:
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                               torch.nn.ReLU(), torch.nn.Linear(256, num_classes))


def train(x: np.ndarray, y: np.ndarray, epochs: int, seed: int, plan: Callable[[int], np.ndarray], *,
          total_steps: int | Callable[[int, int], float] | None = None, num_classes: int = 10,
          on_step: Callable[..., Any] | None = None,
          weights: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[Any, dict[str, float]]:
    """Train an MLP; ``plan(epoch)`` gives the epoch's indices. Returns (model, stats)."""
    import torch
    import torch.nn.functional as F

    net = model(num_classes, seed)
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=1e-4)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    step, passes = 0, 0
    t0 = time.perf_counter()
    for e in range(epochs):
        idx = np.asarray(plan(e), dtype=np.int64)
        nb = math.ceil(len(idx) / BS)
        for b in range(nb):
            bi = idx[b * BS : (b + 1) * BS]
            if callable(total_steps):
                progress = total_steps(e, b / nb)
            else:
                progress = step / max(total_steps or 1, 1)
            for g in opt.param_groups:
                g["lr"] = LR * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
            ti = torch.from_numpy(bi)
            logits = net(X[ti])
            loss = F.cross_entropy(logits, Y[ti], reduction="none")
            w = None if weights is None else torch.from_numpy(weights(bi).astype(np.float32))
            total = (loss * w).mean() if w is not None else loss.mean()
            opt.zero_grad()
            total.backward()
            opt.step()
            if on_step is not None:
                on_step(e, bi, loss.detach().numpy(), logits.detach().numpy())
            step += 1
            passes += len(bi)
    return net, {"passes": passes, "steps": step, "wall": time.perf_counter() - t0}


def evaluate(net: Any, xt: np.ndarray, yt: np.ndarray) -> tuple[float, np.ndarray]:
    import torch

    with torch.no_grad():
        pred = net(torch.from_numpy(xt)).argmax(1).numpy()
    per = np.array([(pred[yt == c] == c).mean() for c in range(10)])
    return float((pred == yt).mean()), per


def probs(net: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(x)), 1).numpy()


def steps_of(n_per_epoch: list[int] | np.ndarray) -> int:
    return int(sum(math.ceil(k / BS) for k in n_per_epoch))


def ms(v: list[float], scale: float = 100.0, nd: int = 2) -> str:
    a = np.asarray(v) * scale
    return f"{a.mean():.{nd}f} ± {a.std():.{nd}f}"


def perm(n: int, seed: int, epoch: int) -> np.ndarray:
    from datadiet.train._base import epoch_keys

    return np.argsort(epoch_keys(seed, "bench-full", epoch, np.arange(n)), kind="stable")


# --- 1. InfoBatch ---------------------------------------------------------------------------------
def bench_infobatch(data: tuple, epochs: int, seeds: list[int]) -> str:
    from datadiet.train import InfoBatchSampler

    x, y, xt, yt = data
    n = len(y)
    rows: dict[str, dict[str, list[float]]] = {}

    def add(name: str, acc: float, saved: float, wall: float) -> None:
        r = rows.setdefault(name, {"acc": [], "saved": [], "wall": []})
        r["acc"].append(acc)
        r["saved"].append(saved)
        r["wall"].append(wall)

    for seed in seeds:
        net, st = train(x, y, epochs, seed, lambda e, s=seed: perm(n, s, e), total_steps=steps_of([n] * epochs))
        add("full", evaluate(net, xt, yt)[0], 0.0, st["wall"])
        full_wall = st["wall"]
        for budget in (0.67, 0.6) if MORE else (0.67,):
            s = InfoBatchSampler(n, epochs, prune_ratio=0.5, budget=budget, seed=seed)
            net, st = train(x, y, epochs, seed, lambda e, s=s: (s.set_epoch(e), s.epoch_indices())[1],
                            total_steps=s.total_steps(BS), on_step=lambda e, i, loss, z, s=s: s.update(i, loss),
                            weights=s.loss_weights)
            assert st["passes"] == s.epoch_lengths().sum()
            add(f"InfoBatch, budget {budget:.0%} of passes", evaluate(net, xt, yt)[0], s.saved_fraction(),
                st["wall"] / full_wall)
        s = InfoBatchSampler(n, epochs, prune_ratio=0.5, seed=seed)
        net, st = train(x, y, epochs, seed, lambda e, s=s: (s.set_epoch(e), s.epoch_indices())[1],
                        total_steps=lambda e, f: (e + f) / epochs, on_step=lambda e, i, loss, z, s=s: s.update(i, loss),
                        weights=s.loss_weights)
        add("InfoBatch reference (prune_ratio 0.5, no budget)", evaluate(net, xt, yt)[0], s.saved_fraction(),
            st["wall"] / full_wall)
        rows["full"]["wall"][-1] = 1.0
    full = np.mean(rows["full"]["acc"])
    out = ["| run | test accuracy % | Δ vs full (points) | forward passes saved % | wall time vs full |",
           "|---|---|---|---|---|"]
    for name, r in rows.items():
        out.append(f"| {name} | {ms(r['acc'])} | {100 * (np.mean(r['acc']) - full):+.2f} | "
                   f"{ms(r['saved'], nd=1)} | {np.mean(r['wall']):.2f} |")
    return "\n".join(out)


# --- 2. RS2 ----------------------------------------------------------------------------------------
def bench_rs2(data: tuple, epochs: int, seeds: list[int]) -> str:
    from datadiet._core import uniform_keys
    from datadiet.train import RS2Sampler

    x, y, xt, yt = data
    n = len(y)
    out = ["| fraction per round | steps | RS2 (no replacement) % | static random subset % | full data, same steps % |",
           "|---|---|---|---|---|"]
    for frac in (0.1, 0.3):
        res: dict[str, list[float]] = {"rs2": [], "static": [], "full": []}
        steps = 0
        for seed in seeds:
            s = RS2Sampler(n, frac, seed=seed)
            steps = steps_of([s.round_size_] * epochs)
            net, _ = train(x, y, epochs, seed, lambda e, s=s: (s.set_epoch(e), s.epoch_indices())[1],
                           total_steps=steps)
            res["rs2"].append(evaluate(net, xt, yt)[0])
            sub = np.argsort(uniform_keys(np.arange(n), 1000 + seed), kind="stable")[: s.round_size_]
            net, _ = train(x, y, epochs, seed, lambda e, sub=sub, seed=seed: sub[perm(len(sub), seed, e)],
                           total_steps=steps)
            res["static"].append(evaluate(net, xt, yt)[0])
            # full data for the same number of steps: a stream of full-data permutations, cut into rounds
            total = s.round_size_ * epochs
            stream = np.concatenate([perm(n, seed, c) for c in range(math.ceil(total / n))])[:total]
            net, _ = train(x, y, epochs, seed,
                           lambda e, st=stream, m=s.round_size_: st[e * m : (e + 1) * m], total_steps=steps)
            res["full"].append(evaluate(net, xt, yt)[0])
        out.append(f"| {frac:.0%} | {steps} | {ms(res['rs2'])} | {ms(res['static'])} | {ms(res['full'])} |")
    return "\n".join(out)


# --- 3. group sampling ------------------------------------------------------------------------------
def bench_group(data: tuple, epochs: int, seeds: list[int]) -> str:
    from datadiet._core import uniform_keys
    from datadiet.train import GroupSampler

    x, y, xt, yt = data
    keep = (y >= 5) | (uniform_keys(np.arange(len(y)), 77) < 0.05)
    xi, yi = x[keep], y[keep]
    n = len(yi)
    configs: dict[str, Callable[[int], Any]] = {
        "natural (no balancing)": lambda s: GroupSampler(yi, alpha=1.0, seed=s),
        "downsample, alpha 0.3": lambda s: GroupSampler(yi, alpha=0.3, mode="downsample", seed=s),
        "upsample, alpha 0.3": lambda s: GroupSampler(yi, alpha=0.3, mode="upsample", seed=s),
        "upweight, alpha 0.3": lambda s: GroupSampler(yi, alpha=0.3, mode="upweight", seed=s),
        "upsample + Cooldown (0.3 -> 1, last 30%)": lambda s: GroupSampler(
            yi, alpha=0.3, schedule="cooldown", alpha_end=1.0, cooldown_fraction=0.3, num_epochs=epochs,
            mode="upsample", seed=s),
    }
    if MORE:
        configs["upsample, alpha 0 (uniform)"] = lambda s: GroupSampler(yi, alpha=0.0, mode="upsample", seed=s)
        configs["upsample + Cooldown (0 -> 0.3, last 30%)"] = lambda s: GroupSampler(
            yi, alpha=0.0, schedule="cooldown", alpha_end=0.3, cooldown_fraction=0.3, num_epochs=epochs,
            mode="upsample", seed=s)
    head = "| mode | " + " | ".join(f"class {c}" for c in range(10)) + " | mean % | cut classes 0-4 % |"
    out = [f"Imbalanced copy: {n} training images (classes 0-4: {int((yi < 5).sum())} in all).", "",
           head, "|---" * 13 + "|"]
    for name, make in configs.items():
        per_all, accs = [], []
        for seed in seeds:
            s = make(seed)
            lens = []
            for e in range(epochs):
                s.set_epoch(e)
                lens.append(len(s))
            net, _ = train(xi, yi, epochs, seed, lambda e, s=s: (s.set_epoch(e), s.epoch_indices())[1],
                           total_steps=steps_of(lens), weights=s.loss_weights)
            acc, per = evaluate(net, xt, yt)
            accs.append(acc)
            per_all.append(per)
        per_m = np.mean(per_all, axis=0) * 100
        out.append(f"| {name} | " + " | ".join(f"{v:.1f}" for v in per_m) +
                   f" | {ms(accs)} | {per_m[:5].mean():.2f} |")
    return "\n".join(out)


# --- 4. label noise ---------------------------------------------------------------------------------
def bench_noise(data: tuple, epochs: int, seeds: list[int]) -> str:
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    from datadiet._core import uniform_keys
    from datadiet.train import DynamicsRecorder, assign_threshold_examples, aum_cutoff

    x, y, xt, yt = data
    n = len(y)
    flip = uniform_keys(np.arange(n), 4242) < 0.10
    shift = 1 + (np.floor(uniform_keys(np.arange(n), 4343) * 9)).astype(np.int64)
    yn = np.where(flip, (y + shift) % 10, y)
    k = int(flip.sum())
    steps = steps_of([n] * epochs)
    prec: dict[str, list[float]] = {}
    acc: dict[str, list[float]] = {}
    thr_rows = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            rec = DynamicsRecorder(n, 10, tmp + "/dyn", max_epochs=epochs)
            net, _ = train(x, yn, epochs, seed, lambda e, s=seed: perm(n, s, e), total_steps=steps,
                           on_step=lambda e, i, loss, z, r=rec: r.record(e, i, z, yn[i]))
            acc.setdefault("no removal (noisy labels)", []).append(evaluate(net, xt, yt)[0])
            sc = rec.scores()
        # flagged first: low AUM, low confidence, high EL2N, many forgetting events
        ranking = {
            "AUM (low)": np.argsort(sc["aum"], kind="stable"),
            "data map: confidence (low)": np.argsort(sc["confidence"], kind="stable"),
            "EL2N (high)": np.argsort(-sc["el2n"], kind="stable"),
            "forgetting (high)": np.lexsort((sc["confidence"], -sc["forgetting"])),
        }
        # cleanlab on 2-fold cross-validated probabilities of the same model
        fold = uniform_keys(np.arange(n), 900 + seed) < 0.5
        pp = np.zeros((n, 10))
        for f in (True, False):
            tr = np.flatnonzero(fold == f)
            net, _ = train(x[tr], yn[tr], epochs, seed, lambda e, m=tr.shape[0], s=seed: perm(m, s, e),
                           total_steps=steps_of([len(tr)] * epochs))
            pp[fold != f] = probs(net, x[fold != f])
        ranking["cleanlab label quality (low)"] = np.argsort(get_label_quality_scores(yn, pp), kind="stable")
        issues = find_label_issues(yn, pp)
        prec.setdefault("cleanlab find_label_issues (its own flags)", []).append(
            float(flip[issues].mean()) if issues.any() else 0.0)
        for name, order in ranking.items():
            prec.setdefault(name, []).append(float(flip[order[:k]].mean()))
            keep = np.ones(n, dtype=bool)
            keep[order[:k]] = False
            kept = np.flatnonzero(keep)
            net, _ = train(x[kept], yn[kept], epochs, seed, lambda e, m=kept.shape[0], s=seed: perm(m, s, e),
                           total_steps=steps_of([len(kept)] * epochs))
            acc.setdefault(f"remove top k by {name}", []).append(evaluate(net, xt, yt)[0])
        # AUM threshold examples: a second run with an extra, fake class
        y_thr, is_thr = assign_threshold_examples(yn, 10, seed=seed)
        with tempfile.TemporaryDirectory() as tmp:
            rec = DynamicsRecorder(n, 11, tmp + "/dyn", max_epochs=epochs)
            train(x, y_thr, epochs, seed, lambda e, s=seed: perm(n, s, e), total_steps=steps, num_classes=11,
                  on_step=lambda e, i, loss, z, r=rec, yt_=y_thr: r.record(e, i, z, yt_[i]))
            aum = rec.scores()["aum"]
        cut = aum_cutoff(aum, is_thr, 99)
        flagged = (~is_thr) & (aum < cut)
        thr_rows.append((cut, int(flagged.sum()), float(flip[flagged].mean()) if flagged.any() else 0.0,
                         float(flagged[flip & ~is_thr].mean())))
    out = [f"{n} training images, {k} labels flipped (10%); k = {k}.", "",
           "| score | precision at k % |", "|---|---|"]
    for name, v in prec.items():
        out.append(f"| {name} | {ms(v)} |")
    t = np.array(thr_rows)
    out += ["", f"AUM with threshold examples (99th percentile cut-off {t[:, 0].mean():.2f}): flags "
            f"{t[:, 1].mean():.0f} of the non-threshold examples, precision {100 * t[:, 2].mean():.1f}%, "
            f"recall {100 * t[:, 3].mean():.1f}% (means over seeds).", "",
            "| training set | test accuracy % |", "|---|---|"]
    for name, v in acc.items():
        out.append(f"| {name} | {ms(v)} |")
    best = max(prec, key=lambda m: np.mean(prec[m]))
    out += ["", f"Best score: {best}, precision at k {100 * np.mean(prec[best]):.1f}% (target >= 80%)."]
    return "\n".join(out)


PARTS = {"infobatch": bench_infobatch, "rs2": bench_rs2, "group": bench_group, "noise": bench_noise}


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench train")
    ap.add_argument("--n", type=int, default=16000, help="training images (a random subset of the 60,000)")
    ap.add_argument("--epochs", type=int, default=10, help="epochs (rounds for RS2) of the rs2 and group parts")
    ap.add_argument("--ib-epochs", type=int, default=12, help="epochs of the infobatch part")
    ap.add_argument("--noise-epochs", type=int, default=8, help="epochs of the noise part")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--threads", type=int, default=1, help="torch threads (2 on 2 busy cores was 16x slower)")
    ap.add_argument("--more", action="store_true",
                    help="also InfoBatch at a 0.60 budget and two more Cooldown rows (about 4 more minutes)")
    args = ap.parse_args(argv)
    global MORE
    MORE = args.more
    import torch

    torch.set_num_threads(args.threads)
    data = load(args.n)
    seeds = list(range(args.seeds))
    cmd = "python -m bench train " + " ".join(argv)
    text = [f"## Train-time steering (issue 12)\n\nCommand: `{cmd.strip()}` (n={args.n} training images, "
            f"{args.ib_epochs} / {args.epochs} / {args.epochs} / {args.noise_epochs} epochs for the four parts, "
            f"{args.seeds} seeds, torch {torch.__version__} CPU, {args.threads} threads)\n"]
    for part in args.parts.split(","):
        t0 = time.perf_counter()
        epochs = {"infobatch": args.ib_epochs, "noise": args.noise_epochs}.get(part, args.epochs)
        body = PARTS[part](data, epochs, seeds)
        text.append(f"### {part} ({time.perf_counter() - t0:.0f} s)\n\n{body}\n")
        print(text[-1], flush=True)
    write_markdown("train", "\n".join(text))
