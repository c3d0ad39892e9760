"""Group encoding of a chunked column: sorted names, same codes as encoding the combined column."""

import numpy as np
import pyarrow as pa

from datadiet.signals._table import encode_groups


def test_chunked_groups_encode_like_the_combined_column(rt):
    cats = rt.column("category").combine_chunks()
    n = len(cats)
    cuts = [0, 7, 7, 1000, n // 2, n]
    chunked = pa.chunked_array([cats.slice(a, b - a) for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    codes, names = encode_groups(chunked)
    ref_names, ref_codes = np.unique(np.asarray(cats.to_pylist()), return_inverse=True)
    assert names == ref_names.tolist() and codes.dtype == np.int32
    np.testing.assert_array_equal(codes, ref_codes)
    # dictionary chunks with different dictionaries, and numbers as groups
    dict_chunks = pa.chunked_array([pa.array(["b", "a"]).dictionary_encode(), pa.array(["c", "a"]).dictionary_encode()])
    assert encode_groups(dict_chunks)[0].tolist() == [1, 0, 2, 0]
    codes, names = encode_groups(pa.array([30, 4, 30]))
    assert codes.tolist() == [0, 1, 0] and names == ["30", "4"]


def test_null_ids_from_a_list_are_refused_not_named_none():
    """A None id in a list or object array is a null id (refused), never the string "None"."""
    import pytest

    from datadiet._core._errors import DataError
    from datadiet.select import RandomSelector
    from datadiet.signals import Signals

    for ids in (["a", None, "c"], np.array(["a", None, "c"], dtype=object)):
        with pytest.raises(DataError, match="null"):
            RandomSelector(budget=2).fit(Signals.from_arrays(ids, scores=[1.0, 2.0, 3.0]))
    sig = Signals.from_arrays(np.array(["a", "b"], dtype=object), scores=[1.0, 2.0])
    assert sig.ids.type == pa.string() and sig.ids.to_pylist() == ["a", "b"]
    assert Signals.from_arrays([3, 1]).ids.type == pa.int64()


def test_null_groups_in_a_list_are_refused_like_in_an_arrow_column():
    import pytest

    from datadiet._core._errors import DataError

    for groups in (["a", None, "a"], np.array(["a", None], dtype=object), [1.0, float("nan")],
                   pa.array(["a", None])):
        with pytest.raises(DataError, match="1 empty \\(null\\) values"):
            encode_groups(groups)
    assert encode_groups([2.0, 1.0, 2.0])[0].tolist() == [1, 0, 1]


def test_text_from_a_table_column_keeps_its_values_and_marks_nulls(rt):
    """A chunked column reads like a list; a null text is marked to be skipped (on_null="skip"), read as ""."""
    from datadiet.select import RandomSelector
    from datadiet.signals import Signals

    col = pa.chunked_array([rt.column("text").combine_chunks().slice(0, 500), pa.array([None, "x"])])
    sig = Signals.from_arrays(text=col)
    assert isinstance(sig.text, pa.Array) and sig.text.null_count == 0
    assert sig.text.to_pylist() == [t or "" for t in col.to_pylist()] == \
        Signals.from_arrays(text=col.to_pylist()).text.to_pylist()
    assert sig.null_text_rows().tolist() == [500]
    sel = RandomSelector(budget=400, seed=0).fit(sig).selection_
    assert sel.counts()["null_text"] == 1 and not sel.kept[500]


def test_repeated_ids_are_refused_in_python_as_on_the_command_line():
    import pytest

    from datadiet._core._errors import DataError
    from datadiet.signals import Signals

    for ids in (["a", "b", "a"], np.array([7, 8, 7]), pa.array(["x", "x", "y"])):
        with pytest.raises(DataError, match=r"ids have repeated values \(e.g. .* at rows 0 and \d; 1 repeats in all\)"
                                            r": ids must be unique; give every example its own id, or leave ids out"):
            Signals.from_arrays(ids, scores=[1.0, 2.0, 3.0])
    assert len(Signals.from_arrays(scores=[1.0, 2.0])) == 2  # no ids: row numbers


def test_token_counts_from_floats_are_whole_and_finite():
    import pytest

    from datadiet._core._errors import DataError
    from datadiet.signals import Signals

    assert Signals.from_arrays(tokens=np.array([10.0, 0.0, 7.0])).tokens.tolist() == [10, 0, 7]
    with pytest.raises(DataError, match="1 missing \\(NaN\\) or infinite values"):
        Signals.from_arrays(tokens=[10, float("nan"), 5])
    with pytest.raises(DataError, match="whole numbers; row 2 has 5.7"):
        Signals.from_arrays(tokens=[10, 3, 5.7])
    with pytest.raises(DataError, match="non-negative"):
        Signals.from_arrays(tokens=[10, -1])
