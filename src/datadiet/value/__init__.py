"""Data valuation (KNN-Shapley) and coresets."""

from datadiet.value._knn_shapley import KNNShapley, knn_shapley
from datadiet.value._knn_shapley_select import KNNShapleySelector

__all__ = ["KNNShapley", "KNNShapleySelector", "knn_shapley"]
