import numpy as np
import pytest


@pytest.fixture(scope="session")
def bbc_vectors(bbc):
    """Hashed n-gram vectors and integer topic labels of BBC News, shuffled by a fixed seed."""
    from datadiet.signals import HashedEncoder

    texts = bbc.column("text").to_pylist()
    topics = np.asarray(bbc.column("topic").to_pylist())
    x = np.asarray(HashedEncoder(dim=256).fit([texts]).encode(texts), np.float32)
    _, y = np.unique(topics, return_inverse=True)
    perm = np.random.default_rng(42).permutation(len(y))
    return x[perm], y[perm]
