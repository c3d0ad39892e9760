"""Embedding-space methods of ``datadiet select``: auto, cluster-balanced, diversify, prototypes,
kcenter, facility-location. They read vectors from ``--vectors COL``, or embed ``--text`` with
``--model`` (cached as the ``embedding`` signal), or reuse a cached embedding of ``--text``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
import numpy as np

from datadiet._core._errors import DataError
from datadiet.cli._methods import MethodSpec, register
from datadiet.engine import load_signals
from datadiet.io import Budget, Selection, Source
from datadiet.select import (
    AutoSelector,
    ClusterBalancedSelector,
    DiversifySelector,
    FacilityLocationSelector,
    KCenterSelector,
    PrototypeSelector,
)
from datadiet.signals import Columns, SignalCache, Signals

__all__ = ["signals_with_vectors", "vectors_for"]

MODEL_HELP = ("Embedding model for --text: minilm, static, hashed[:DIM], a local sentence-transformers "
              "or model2vec folder, or a .npy of precomputed vectors (cached as the 'embedding' signal).")


def vectors_for(source: Source, columns: Columns, model: str | None, *, batch_size: int = 1024,
                cache_dir: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Vectors from ``--vectors``, ``--model`` (embedding ``--text``) or a cached embedding of ``--text``."""
    from datadiet.signals import embed_source

    if columns.vectors:
        if model:
            raise DataError("give either --vectors or --model, not both")
        return embed_source(source, "", f"column:{columns.vectors}"), {"vectors": columns.vectors}
    if model:
        if model.endswith(".npy"):
            return embed_source(source, columns.text or "", model), {"vectors": model}
        if not columns.text:
            raise DataError("--model embeds a text column: name it with --text COL")
        vec = embed_source(source, columns.text, model, batch_size=batch_size, cache_dir=cache_dir)
        return vec, {"model": model, "text": columns.text}
    if columns.text:
        found = [e for e in SignalCache(source, root=cache_dir).entries()
                 if e.get("name") == "embedding" and e.get("params", {}).get("text") == columns.text]
        if len(found) == 1:
            cached = SignalCache(source, root=cache_dir).load_vectors("embedding", found[0]["params"])
            if cached is not None:
                return cached, dict(found[0]["params"])
        if len(found) > 1:
            models = ", ".join(str(e["params"].get("model")) for e in found)
            raise DataError(f"several cached embeddings of {columns.text!r} ({models}); pick one with --model")
    raise DataError("this method needs vectors: name a column with --vectors COL, or embed a text column "
                     "with --text COL --model MODEL (minilm, static, hashed or a local folder)")


def signals_with_vectors(source: Source, columns: Columns, opts: dict[str, Any]) -> Signals:
    vec, how = vectors_for(source, columns, opts.get("model"), batch_size=opts.get("embed_batch_size") or 1024)
    sig = load_signals(source, replace(columns, vectors=None))
    if vec.shape[0] != len(sig):
        raise DataError(f"the vectors have {vec.shape[0]} rows but the input has {len(sig)}; "
                         "re-embed with datadiet embed")
    sig.vectors = vec
    sig.extra["vectors_from"] = how
    return sig


def _runner(build: Any) -> Any:
    def run(source: Source, columns: Columns, opts: dict[str, Any]) -> Selection:
        if opts.get("budget") is None:
            raise DataError("this method needs --budget (e.g. 1000 or 10%)")
        if Budget.parse(opts["budget"]).is_tokens:
            raise DataError("embedding methods take a budget of examples or a fraction, not tokens")
        selector = build(opts)
        sig = signals_with_vectors(source, columns, opts)
        sel = selector.fit(sig).selection_
        sel.info["vectors"] = sig.extra.get("vectors_from")
        return sel

    return run


def _common(o: dict[str, Any]) -> dict[str, Any]:
    kw = {"budget": o["budget"], "seed": o["seed"], "allow_all": o["allow_all"], "metric": o.get("metric") or "cosine"}
    return kw


def _clusters(o: dict[str, Any]) -> dict[str, Any]:
    return {"n_clusters": o.get("clusters") or "auto"}


OPTIONS = [
    click.Option(["--model"], metavar="MODEL", help=MODEL_HELP),
    click.Option(["--clusters"], type=int, help="Embedding methods: number of k-means clusters / partitions "
                                                 "(default: automatic, see docs/embeddings.md)."),
    click.Option(["--metric"], type=click.Choice(["cosine", "l2"]), default="cosine", show_default=True,
                 help="Embedding methods: distance between vectors."),
    click.Option(["--keep"], type=click.Choice(["auto", "easy", "hard"]), default="auto", show_default=True,
                 help="prototypes: keep typical (easy) or far-from-centroid (hard) examples."),
    click.Option(["--importance"], type=click.Choice(["spread", "score"]), default="spread", show_default=True,
                 help="diversify: cluster importance from its spread or from the mean --score."),
    click.Option(["--rounds"], type=int, default=1, show_default=True, help="diversify: refinement rounds."),
    click.Option(["--neighbors"], type=int, default=50, show_default=True,
                 help="facility-location: neighbours per example in the similarity graph."),
    click.Option(["--partition-size"], type=int, help="kcenter (5000) / facility-location (10000): rows per partition."),
    click.Option(["--embed-batch-size"], type=int, default=1024, show_default=True,
                 help="Rows per embedded (and resumable) part when --model embeds --text."),
]

_SPECS = [
    ("auto", "embedding: picks prototypes or cluster-balanced from the budget (needs vectors)",
     lambda o: AutoSelector(**_common(o))),
    ("cluster-balanced", "embedding: ClusterClip temperature over k-means clusters (--alpha, --max-repeats)",
     lambda o: ClusterBalancedSelector(alpha=0.5 if o.get("alpha") is None else o["alpha"], max_repeats=o.get("max_repeats") or 1,
                                       **_clusters(o), **_common(o))),
    ("diversify", "embedding: Diversify-and-Conquer per-cluster budgets (--importance, --rounds)",
     lambda o: DiversifySelector(importance=o.get("importance", "spread"), n_rounds=o.get("rounds", 1),
                                 **_clusters(o), **_common(o))),
    ("prototypes", "embedding: SSL-prototype / D4 pruning: easy or hard per cluster (--keep)",
     lambda o: PrototypeSelector(keep=o.get("keep", "auto"), **_clusters(o), **_common(o))),
    ("kcenter", "embedding: k-center greedy per partition (coverage radius)",
     lambda o: KCenterSelector(partition_size=o.get("partition_size") or 5000, **_clusters(o), **_common(o))),
    ("facility-location", "embedding: lazy-greedy facility location on a kNN graph per partition",
     lambda o: FacilityLocationSelector(n_neighbors=o.get("neighbors", 50),
                                        partition_size=o.get("partition_size") or 10000,
                                        **_clusters(o), **_common(o))),
]

for _name, _help, _build in _SPECS:
    register(MethodSpec(_name, _help, build=_build, options=OPTIONS, run=_runner(_build)))
