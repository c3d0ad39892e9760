"""Data valuation (KNN-Shapley) and coresets."""

from datadiet.value._coreset import CoresetSelector, inclusion_probabilities, leverage_scores
from datadiet.value._knn_shapley import KNNShapley, knn_shapley
from datadiet.value._knn_shapley_select import KNNShapleySelector

__all__ = [
    "CoresetSelector",
    "KNNShapley",
    "KNNShapleySelector",
    "inclusion_probabilities",
    "knn_shapley",
    "leverage_scores",
]
