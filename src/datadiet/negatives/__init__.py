"""negatives layer."""
