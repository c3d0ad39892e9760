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
