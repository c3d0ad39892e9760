"""Benchmarks against peer tools and quality benchmarks on real data (not tests)."""
