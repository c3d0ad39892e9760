"""Text normalisation applied before hashing, shingling or comparing texts.

Four steps, each optional, applied in this order with ``pyarrow.compute`` on a
whole column (no Python loop per document):

1. ``unicode``: Unicode normalisation form (default ``"NFKC"``: compatibility
   characters such as ligatures, full-width letters and non-breaking spaces are
   folded to their plain forms);
2. ``lowercase``: Unicode-aware lower-casing;
3. ``punctuation``: every Unicode punctuation (``\\p{P}``) and symbol (``\\p{S}``)
   character is removed (replaced by nothing, so ``don't`` becomes ``dont``);
4. ``whitespace``: runs of whitespace become one space, and leading / trailing
   whitespace is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datadiet._core._errors import DataError, DataTypeError

__all__ = ["Normalization", "normalize_text", "as_text_array", "word_dictionary", "word_spans", "fold_ascii",
           "fold_ascii_bytes", "punctuation_marks"]

_FORMS = ("NFC", "NFKC", "NFD", "NFKD")
_FLAGS = {"lower": "lowercase", "space": "whitespace", "punct": "punctuation"}


@dataclass(frozen=True)
class Normalization:
    """How texts are normalised before they are compared.

    Parameters
    ----------
    lowercase : bool, default True
    whitespace : bool, default True
        Collapse runs of whitespace to one space and strip both ends.
    punctuation : bool, default True
        Remove Unicode punctuation and symbols.
    unicode : {"NFKC", "NFC", "NFD", "NFKD"} or None, default "NFKC"

    Examples
    --------
    >>> import pyarrow as pa
    >>> Normalization().apply(pa.array(["  Hello,   WORLD! \\u00a0"])).to_pylist()
    ['hello world']
    >>> Normalization.parse("lower").apply(pa.array(["A,  b"])).to_pylist()
    ['a,  b']
    """

    lowercase: bool = True
    whitespace: bool = True
    punctuation: bool = True
    unicode: str | None = "NFKC"

    def check(self) -> None:
        for name in ("lowercase", "whitespace", "punctuation"):
            if not isinstance(getattr(self, name), bool):
                raise DataTypeError(f"Normalization.{name} must be True or False; got {getattr(self, name)!r}")
        if self.unicode is not None and self.unicode not in _FORMS:
            raise DataError(f"Normalization.unicode must be one of {', '.join(_FORMS)} or None; "
                             f"got {self.unicode!r}")

    @classmethod
    def parse(cls, spec: Any) -> Normalization:
        """Build from a ``Normalization``, ``None``/``"none"`` (nothing), or a comma list.

        The list names the steps to apply: ``lower``, ``space``, ``punct`` and a
        Unicode form (``nfkc``, ``nfc``...); ``"default"`` is ``lower,space,punct,nfkc``.
        """
        if isinstance(spec, Normalization):
            spec.check()
            return spec
        if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("none", "")):
            return cls(False, False, False, None)
        if isinstance(spec, bool):
            return cls() if spec else cls(False, False, False, None)
        if not isinstance(spec, str):
            raise DataTypeError(f"normalize must be a Normalization, a comma list such as 'lower,space,punct,nfkc', "
                            f"or None; got {spec!r}")
        if spec.strip().lower() == "default":
            return cls()
        kw: dict[str, Any] = {"lowercase": False, "whitespace": False, "punctuation": False, "unicode": None}
        for part in (p.strip().lower() for p in spec.split(",") if p.strip()):
            if part in _FLAGS:
                kw[_FLAGS[part]] = True
            elif part.upper() in _FORMS:
                kw["unicode"] = part.upper()
            else:
                raise DataError(f"unknown normalisation step {part!r} in {spec!r}; use a comma list of "
                                 f"lower, space, punct, nfkc, nfc, nfd, nfkd (or 'none' / 'default')")
        return cls(**kw)

    def describe(self) -> str:
        steps = [s for s, f in (("nfkc" if self.unicode == "NFKC" else (self.unicode or "").lower(), self.unicode),
                                ("lower", self.lowercase), ("punct", self.punctuation),
                                ("space", self.whitespace)) if f]
        return ",".join(steps) or "none"

    def apply(self, text: Any) -> pa.Array:
        """Normalise a string column (nulls stay null); returns a ``large_string`` array.

        With ``whitespace`` on, the text is split into words once, the other steps
        run on the distinct words only (a dictionary of the column), and the words
        are joined back with single spaces: much faster than regular expressions over
        the whole text, and the same result.
        """
        self.check()
        arr = as_text_array(text)
        if self.whitespace:
            words, codes, counts = word_dictionary(arr, self)
            offsets = np.zeros(len(arr) + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
            lists = pa.LargeListArray.from_arrays(pa.array(offsets), words.take(pa.array(codes)),
                                                  mask=arr.is_null() if arr.null_count else None)
            return pc.binary_join(lists, pa.scalar(" ", pa.large_string()))
        return self._apply_words(arr)

    def _apply_words(self, arr: pa.Array) -> pa.Array:
        """Unicode, case and punctuation steps (no whitespace step)."""
        if self.unicode:
            arr = pc.utf8_normalize(arr, form=self.unicode)
        if self.lowercase:
            arr = pc.utf8_lower(arr)
        if self.punctuation:
            arr = pc.replace_substring_regex(arr, r"[\p{P}\p{S}]+", "")
        return arr


def word_dictionary(text: pa.Array, norm: Normalization) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Words of every document, normalised through a dictionary of distinct words.

    Returns ``(words, codes, counts)``: ``words`` holds the normalised distinct
    words, ``codes`` the word of every kept occurrence (documents one after the
    other; words that normalise to nothing are left out) and ``counts`` the number
    of kept words of each document.
    """
    lists = pc.utf8_split_whitespace(text)
    offsets = lists.offsets.to_numpy()
    flat = lists.flatten()
    enc = pc.dictionary_encode(flat)
    words = norm._apply_words(enc.dictionary)
    empty = (pc.binary_length(words).to_numpy(zero_copy_only=False) == 0)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    per_doc = np.diff(offsets - offsets[0]).astype(np.int64)
    if empty.any():
        keep = ~empty[codes]
        codes = codes[keep]
        doc = np.repeat(np.arange(len(text)), per_doc)
        per_doc = np.bincount(doc[keep], minlength=len(text)).astype(np.int64)
    return words, codes, per_doc


# whitespace as ``str.split()`` and ``pyarrow.compute.utf8_split_whitespace`` see it: these ASCII
# bytes and the multi-byte characters below (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
# U+202F, U+205F, U+3000), as UTF-8
_WS_ASCII = np.zeros(256, dtype=bool)
_WS_ASCII[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_WS_MULTI = tuple(chr(c).encode() for c in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
                                            0x202F, 0x205F, 0x3000))
_WS_LEADS = np.array(sorted({w[0] for w in _WS_MULTI}), dtype=np.uint8)


def _whitespace(data: np.ndarray) -> np.ndarray:
    """True at every byte of a whitespace character of the UTF-8 bytes ``data``."""
    sep = data <= 32
    low = data < 28  # control bytes: only 9-13 (and 28-31 above) are whitespace
    if low.any():
        idx = np.flatnonzero(low)
        sep[idx] = _WS_ASCII[data[idx]]
    if data.size and int(data.max()) >= int(_WS_LEADS[0]):
        lead = np.flatnonzero(data >= _WS_LEADS[0])
        lead = lead[np.isin(data[lead], _WS_LEADS)]
        if lead.size:
            pad = np.zeros(data.size + 2, dtype=np.uint8)
            pad[:data.size] = data
            b1, b2 = pad[lead + 1], pad[lead + 2]
            for w in _WS_MULTI:
                hit = lead[(data[lead] == w[0]) & (b1 == w[1]) & ((b2 == w[2]) if len(w) == 3 else True)]
                for k in range(len(w)):
                    sep[hit + k] = True
    return sep


def word_spans(data: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Words (runs of non-whitespace) of documents stored as UTF-8 bytes, without copying them.

    ``data`` holds the bytes of every document one after the other, document ``i``
    being ``data[offsets[i]:offsets[i + 1]]``. Words are split exactly as
    ``str.split()`` (and ``pyarrow.compute.utf8_split_whitespace``) split them, Unicode
    whitespace included, and never cross a document boundary.

    Returns ``(starts, lengths, counts)``: byte position and length of every word
    (documents one after the other) and the number of words of each document.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.frombuffer("ab  c\u00a0d e".encode(), np.uint8)
    >>> s, n, c = word_spans(data, np.array([0, 6, 10]))
    >>> s.tolist(), n.tolist(), c.tolist()
    ([0, 4, 7, 9], [2, 1, 1, 1], [2, 2])
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n = int(offsets[-1]) if offsets.size else 0
    if n == 0:
        z = np.zeros(0, np.int64)
        return z, z, np.zeros(max(offsets.size - 1, 0), np.int64)
    data = data[:n]
    sep = _whitespace(data)
    start = np.empty(n, dtype=bool)
    end = np.empty(n, dtype=bool)
    start[0] = not sep[0]
    end[-1] = not sep[-1]
    np.greater(sep[:-1], sep[1:], out=start[1:])  # whitespace, then not
    np.greater(sep[1:], sep[:-1], out=end[:-1])  # not, then whitespace
    inner = offsets[1:-1]
    inner = inner[(inner > 0) & (inner < n)]  # a word never crosses a document boundary
    start[inner] = ~sep[inner]
    end[inner - 1] = ~sep[inner - 1]
    starts = np.flatnonzero(start)
    lengths = np.flatnonzero(end) - starts + 1
    counts = np.diff(np.searchsorted(starts, offsets))
    return starts, lengths, counts.astype(np.int64)


_H = np.uint64(0x8080808080808080)
_K = np.uint64(0x0101010101010101)


def _in_range(c: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """0x80 in every byte of ``c`` within ``[lo, hi]`` (exact for bytes below 0x80)."""
    return (c + _K * np.uint64(0x80 - lo)) & ~(c + _K * np.uint64(0x7F - hi)) & _H


_ASCII_PUNCT = np.zeros(256, dtype=bool)  # ASCII punctuation and symbols (Unicode P and S): !-/ :-@ [-` {-~
for _lo, _hi in ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)):
    _ASCII_PUNCT[_lo:_hi + 1] = True
_ASCII_PUNCT_U8 = _ASCII_PUNCT.astype(np.uint8)
_ASCII_LOWER = np.arange(256, dtype=np.uint8)
_ASCII_LOWER[0x41:0x5B] += 32


def fold_ascii(chunks: np.ndarray, norm: Normalization) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``norm`` to eight bytes of text at a time, where it is a byte-wise map.

    ``chunks`` holds eight bytes of a word in each uint64 (little-endian, zero
    bytes past the word's end). For ASCII every Unicode form is the identity and
    lower-casing maps ``A-Z`` to ``a-z``, which is done here. A non-zero ``flag``
    (bit 7 of a byte) marks the chunks with a non-ASCII byte, whose words need
    :meth:`Normalization.apply`'s Unicode path; punctuation is found by
    :func:`punctuation_marks`.

    Returns ``(folded, flag)``.
    """
    flag = chunks & _H
    if norm.lowercase:
        chunks = chunks | (_in_range(chunks, 0x41, 0x5A) >> np.uint64(2))
    return chunks, flag


def punctuation_marks(data: np.ndarray, norm: Normalization) -> np.ndarray | None:
    """1 at every ASCII punctuation or symbol byte of ``data`` (0 elsewhere) when ``norm``
    removes punctuation; ``None`` when it keeps it."""
    return _ASCII_PUNCT_U8[data] if norm.punctuation else None


def fold_ascii_bytes(data: np.ndarray, norm: Normalization) -> tuple[np.ndarray, np.ndarray | None]:
    """Apply ``norm`` to ASCII bytes one by one: ``(bytes, kept)``.

    ``kept`` (``None`` when every byte stays) marks the bytes that punctuation
    removal keeps; ``bytes`` are lower-cased when ``norm`` says so.

    Examples
    --------
    >>> import numpy as np
    >>> b, kept = fold_ascii_bytes(np.frombuffer(b"Don't!", np.uint8), Normalization())
    >>> bytes(b[kept])
    b'dont'
    """
    kept = ~_ASCII_PUNCT[data] if norm.punctuation else None
    if norm.lowercase:
        data = _ASCII_LOWER[data]
    return data, kept


def as_text_array(text: Any, what: str = "text") -> pa.Array:
    """A ``large_string`` pyarrow array from a pyarrow array / chunked array or a list of str."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if not isinstance(text, pa.Array):
        try:
            text = pa.array(list(text))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            raise DataTypeError(f"{what} must hold strings") from None
    if pa.types.is_null(text.type):
        text = text.cast(pa.large_string())
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        raise DataTypeError(f"{what} must hold strings, found {text.type}; cast the column to text first")
    return text.cast(pa.large_string())


def normalize_text(text: Any, normalize: Any = "default") -> pa.Array:
    """Normalise ``text`` with a :class:`Normalization` (or a spec string, see ``Normalization.parse``).

    Examples
    --------
    >>> normalize_text(["ﬁne  Day!"]).to_pylist()
    ['fine day']
    """
    return Normalization.parse(normalize).apply(text)
