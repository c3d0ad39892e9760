"""k-means and nearest-neighbour search (faiss), batched and out-of-core."""

from datadiet.index._kmeans import KMeansResult, assign, kmeans
from datadiet.index._knn import knn

__all__ = ["KMeansResult", "assign", "kmeans", "knn"]
