import numpy as np
import pytest


@pytest.fixture(scope="session")
def bbc_imbalanced(bbc):
    """BBC News as 64-d hashed vectors with an imbalanced copy of the topics (sport and tech cut to 40 rows)."""
    from datadiet.signals import HashedEncoder

    texts = bbc.column("text").to_pylist()
    topics = np.asarray(bbc.column("topic").to_pylist())
    x = np.asarray(HashedEncoder(dim=64).fit([texts]).encode(texts), np.float32)
    ids = np.asarray(bbc.column("id").to_pylist())
    keep = np.ones(len(topics), bool)
    for t in ("sport", "tech"):
        keep[np.flatnonzero(topics == t)[40:]] = False
    return x[keep], topics[keep], ids[keep]


@pytest.fixture(scope="session")
def bbc_topic_pools(bbc):
    """BBC News as 128-d hashed vectors; a fixed train / test split; the training rows of each topic."""
    from datadiet.signals import HashedEncoder

    texts = bbc.column("text").to_pylist()
    topics = np.asarray(bbc.column("topic").to_pylist())
    x = np.asarray(HashedEncoder(dim=128).fit([texts]).encode(texts), np.float32)
    perm = np.random.default_rng(0).permutation(len(topics))
    train, test = perm[:1500], perm[1500:]
    names = sorted(set(topics))
    pools = {g: train[topics[train] == g] for g in names}
    return x, topics, test, names, pools
