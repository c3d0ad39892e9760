"""``datadiet negatives`` end to end on the BBC BEIR folder; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from datadiet.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["negatives", *args, "--quiet"], catch_exceptions=False)


def _write_jsonl(rows, path: Path) -> Path:
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return path


@pytest.fixture(scope="module")
def separate(bbc_col, bbc_vectors, tmp_path_factory):
    """The BBC collection as three files with a vector column."""
    d = tmp_path_factory.mktemp("sep")
    qv, dv = bbc_vectors
    q = bbc_col["queries"]
    c = bbc_col["corpus"]
    pq.write_table(pa.table({"id": q.column("_id"), "text": q.column("text"),
                             "emb": pa.array(qv.tolist(), pa.list_(pa.float32()))}), d / "q.parquet")
    pq.write_table(pa.table({"id": c.column("_id"), "text": c.column("text"),
                             "emb": pa.array(dv.tolist(), pa.list_(pa.float32()))}), d / "c.parquet")
    t = bbc_col["qrels_train"]
    pq.write_table(t, d / "qrels.parquet")
    return d


def test_beir_with_a_model_writes_records_and_manifest(bbc_beir, tmp_path):
    out = tmp_path / "neg.parquet"
    r = run("--beir", str(bbc_beir), "--split", "train", "--model", "static", "--num-negatives", "3",
            "--strategy", "simans", "-o", str(out))
    assert r.exit_code == 0, r.output
    t = pq.read_table(out)
    assert t.column_names == ["query_id", "positive_id", "negative_id"]
    man = json.loads((tmp_path / "neg.manifest.json").read_text())
    assert man["params"]["strategy"] == "simans" and man["seed"] == 0
    assert man["rows"] == t.num_rows
    assert set(man["removed"]) >= {"known_positive", "duplicate_text", "absolute_margin"}
    assert man["scores"]["negative"]["count"] == t.num_rows
    # no negative is a labelled positive of its query
    qrels = set()
    for line in (bbc_beir / "qrels" / "train.tsv").read_text().splitlines()[1:]:
        a, b, _ = line.split("\t")
        qrels.add((a, b))
    rows = t.to_pylist()
    assert all((r["query_id"], r["negative_id"]) not in qrels for r in rows)
    assert {(r["query_id"], r["positive_id"]) for r in rows} <= qrels


@pytest.mark.parametrize("fmt,cols", [
    ("triplet", ["anchor", "positive", "negative", "query_id", "positive_id", "negative_id"]),
    ("n-tuple", ["anchor", "positive", "negative_1", "negative_2", "query_id", "positive_id", "negative_1_id",
                 "negative_2_id"]),
    ("labeled-pair", ["anchor", "positive", "query_id", "doc_id", "label"]),
])
def test_separate_files_with_vectors_and_every_format(separate, tmp_path, fmt, cols):
    out = tmp_path / "neg.jsonl"
    r = run("--queries", str(separate / "q.parquet"), "--corpus", str(separate / "c.parquet"), "--qrels",
            str(separate / "qrels.parquet"), "--vectors", "emb", "--num-negatives", "2", "--format", fmt,
            "--with-text", "--range-min", "1", "--range-max", "20", "--absolute-margin", "0", "-o", str(out))
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows and list(rows[0]) == cols
    if fmt == "labeled-pair":
        assert {r["label"] for r in rows} == {0, 1}
        assert len({(r["query_id"], r["doc_id"]) for r in rows}) == len(rows)


def test_pairs_dataset(bbc_col, tmp_path):
    q = bbc_col["queries"].column("text").to_pylist()[:300]
    c = bbc_col["corpus"].column("text").to_pylist()[:300]
    pairs = _write_jsonl([{"question": a, "answer": b} for a, b in zip(q, c)], tmp_path / "pairs.jsonl")
    extra = _write_jsonl([{"text": t} for t in bbc_col["corpus"].column("text").to_pylist()[300:600]],
                         tmp_path / "extra.jsonl")
    out = tmp_path / "neg.parquet"
    r = run("--pairs", str(pairs), "--anchor", "question", "--positive", "answer", "--corpus", str(extra),
            "--model", "static", "--num-negatives", "2", "--with-text", "--seed", "3", "-o", str(out))
    assert r.exit_code == 0, r.output
    t = pq.read_table(out).to_pylist()
    assert all(x["negative"] != x["positive"] for x in t)
    assert {x["anchor"] for x in t} <= set(q)
    man = json.loads((tmp_path / "neg.manifest.json").read_text())
    assert man["corpus"] == len(set(c) | set(bbc_col["corpus"].column("text").to_pylist()[300:600]))


def _bad(tmp_path: Path, *args: str, match: str) -> None:
    before = set(os.listdir(tmp_path))
    out = tmp_path / "bad.parquet"
    r = CliRunner().invoke(cli, ["negatives", *args, "-o", str(out), "--quiet"])
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.strip().splitlines() if x]
    assert len(lines) == 1 and lines[0].startswith("error:") and match in lines[0], r.output
    assert set(os.listdir(tmp_path)) == before  # nothing written, no temporary left


def test_bad_input_is_one_line_exit_2_nothing_written(separate, tmp_path):
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nbusiness/001\tbusiness/001\t1\n"
                                       "nosuch/999\tbusiness/002\t1\n")
    s = separate
    common = ["--queries", str(s / "q.parquet"), "--corpus", str(s / "c.parquet"), "--vectors", "emb"]
    _bad(tmp_path, *common, "--qrels", str(tmp_path / "qrels.tsv"), match="line 3: unknown query id 'nosuch/999'")
    # empty corpus
    empty = tmp_path / "empty"
    empty.mkdir()
    pq.write_table(pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string()),
                             "emb": pa.array([], pa.list_(pa.float32()))}), empty / "c.parquet")
    _bad(tmp_path, "--queries", str(s / "q.parquet"), "--corpus", str(empty / "c.parquet"), "--qrels",
         str(s / "qrels.parquet"), "--vectors", "emb", match="corpus")
    # k larger than the corpus
    few = tmp_path / "few"
    few.mkdir()
    c = pq.read_table(s / "c.parquet").slice(0, 4)
    pq.write_table(c, few / "c.parquet")
    (few / "qrels.tsv").write_text(f"query-id\tcorpus-id\tscore\n{c.column('id')[0]}\t{c.column('id')[0]}\t1\n")
    _bad(tmp_path, "--queries", str(s / "q.parquet"), "--corpus", str(few / "c.parquet"), "--qrels",
         str(few / "qrels.tsv"), "--vectors", "emb", "--num-negatives", "10", match="smaller than the corpus")
    # vectors of mismatched dimension
    mis = tmp_path / "mis"
    mis.mkdir()
    q = pq.read_table(s / "q.parquet")
    short = pa.array([v[:10] for v in q.column("emb").to_pylist()], pa.list_(pa.float32()))
    pq.write_table(q.set_column(2, "emb", short), mis / "q.parquet")
    _bad(tmp_path, "--queries", str(mis / "q.parquet"), "--corpus", str(s / "c.parquet"), "--qrels",
         str(s / "qrels.parquet"), "--vectors", "emb", match="dimensions")
    # a NaN inside a vector
    nan = tmp_path / "nan"
    nan.mkdir()
    vecs = q.column("emb").to_pylist()
    vecs[3][0] = float("nan")
    pq.write_table(q.set_column(2, "emb", pa.array(vecs, pa.list_(pa.float32()))), nan / "q.parquet")
    _bad(tmp_path, "--queries", str(nan / "q.parquet"), "--corpus", str(s / "c.parquet"), "--qrels",
         str(s / "qrels.parquet"), "--vectors", "emb", match="NaN or infinite values (row 3 is the first)")
    # bad parameter, bad combination
    _bad(tmp_path, *common, "--qrels", str(s / "qrels.parquet"), "--num-negatives", "0", match="--num-negatives")
    _bad(tmp_path, *common, match="--qrels")


def test_existing_output_is_refused(separate, tmp_path):
    out = tmp_path / "neg.parquet"
    out.write_text("keep me")
    r = CliRunner().invoke(cli, ["negatives", "--queries", str(separate / "q.parquet"), "--corpus",
                                 str(separate / "c.parquet"), "--qrels", str(separate / "qrels.parquet"),
                                 "--vectors", "emb", "-o", str(out)])
    assert r.exit_code == 2 and "exists" in r.output
    assert out.read_text() == "keep me"


def test_subprocess_cli_help_lists_the_flags():
    env = {**os.environ}
    r = subprocess.run([sys.executable, "-m", "datadiet", "negatives", "--help"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0
    for flag in ("--beir", "--split", "--queries", "--corpus", "--qrels", "--pairs", "--anchor", "--positive",
                 "--id", "--text", "--vectors", "--model", "--num-negatives", "--strategy", "--range-min",
                 "--range-max", "--min-score", "--max-score", "--absolute-margin", "--relative-margin", "--format",
                 "--with-text", "--seed", "-o"):
        assert flag in r.stdout, flag


def test_records_are_the_mined_negatives(separate, tmp_path, bbc_vectors):
    """The file holds exactly what the library mines (ids mapped back)."""
    from datadiet.io._retrieval import read_separate
    from datadiet.negatives import HardNegativeMiner

    out = tmp_path / "neg.parquet"
    r = run("--queries", str(separate / "q.parquet"), "--corpus", str(separate / "c.parquet"), "--qrels",
            str(separate / "qrels.parquet"), "--vectors", "emb", "--format", "n-tuple", "--num-negatives", "3",
            "-o", str(out))
    assert r.exit_code == 0
    col = read_separate(separate / "q.parquet", separate / "c.parquet", separate / "qrels.parquet", vectors="emb")
    m = HardNegativeMiner(num_negatives=3).fit(col.query_vectors, col.doc_vectors, (col.qrels_query, col.qrels_doc),
                                               doc_texts=col.doc_texts, query_ids=col.query_ids,
                                               doc_ids=col.doc_ids)
    dids = col.doc_ids.to_pylist()
    full = (m.negatives_ >= 0).all(axis=1)
    expect = [[dids[n] for n in row] for row in m.negatives_[full]]
    t = pq.read_table(out)
    got = np.array([t.column(f"negative_{j}_id").to_pylist() for j in (1, 2, 3)]).T.tolist()
    assert got == expect


def test_null_texts_read_as_empty_in_the_cli_and_in_python(separate, tmp_path):
    """Null corpus texts are "" in the CLI and in the library alike (the duplicate-text guard sees them equal)."""
    from datadiet.io._retrieval import read_separate
    from datadiet.negatives import HardNegativeMiner

    c = pq.read_table(separate / "c.parquet")
    qrels = pq.read_table(separate / "qrels.parquet")
    row = {x: i for i, x in enumerate(c.column("id").to_pylist())}
    null = {row[x] for x in qrels.column("corpus-id").to_pylist()[:80]}  # positives of the first queries
    empty = set(np.random.default_rng(0).choice(c.num_rows, c.num_rows // 5, replace=False).tolist()) - null
    texts = [None if i in null else "" if i in empty else t for i, t in enumerate(c.column("text").to_pylist())]
    pq.write_table(c.set_column(c.column_names.index("text"), "text", pa.array(texts, pa.string())),
                   tmp_path / "c.parquet")
    before = (tmp_path / "c.parquet").read_bytes()
    out = tmp_path / "neg.parquet"
    r = run("--queries", str(separate / "q.parquet"), "--corpus", str(tmp_path / "c.parquet"), "--qrels",
            str(separate / "qrels.parquet"), "--vectors", "emb", "--format", "n-tuple", "--num-negatives", "3",
            "--with-text", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c.parquet").read_bytes() == before
    t = pq.read_table(out)
    assert t.column("positive").null_count == 0 and "" in t.column("positive").to_pylist()
    col = read_separate(separate / "q.parquet", tmp_path / "c.parquet", separate / "qrels.parquet", vectors="emb")
    m = HardNegativeMiner(num_negatives=3).fit(col.query_vectors, col.doc_vectors, (col.qrels_query, col.qrels_doc),
                                               doc_texts=texts, query_texts=col.query_texts,
                                               query_ids=col.query_ids, doc_ids=col.doc_ids)
    dids = col.doc_ids.to_pylist()
    expect = [[dids[n] for n in row] for row in m.negatives_[(m.negatives_ >= 0).all(axis=1)]]
    got = np.array([t.column(f"negative_{j}_id").to_pylist() for j in (1, 2, 3)]).T.tolist()
    assert got == expect
    man = json.loads((tmp_path / "neg.manifest.json").read_text())
    assert man["removed"]["duplicate_text"] == m.removed_["duplicate_text"] > 0
