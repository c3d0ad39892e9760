"""Token counts: from a column, or a fast documented estimate."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataTypeError

__all__ = ["estimate_tokens", "BYTES_PER_TOKEN"]

#: Bytes of UTF-8 text per token in the built-in estimate. BPE tokenizers of
#: current LLMs average close to 4 bytes per token on English web text.
BYTES_PER_TOKEN = 4


def estimate_tokens(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Estimated tokens per text: ``ceil(utf8_bytes / 4)``, at least 1 for non-empty text.

    Examples
    --------
    >>> import pyarrow as pa
    >>> estimate_tokens(pa.array(["hello world!", ""])).tolist()
    [3, 0]
    """
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        raise DataTypeError(f"the text column must hold strings, found {text.type}")
    n = pc.binary_length(text).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return (n + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN
