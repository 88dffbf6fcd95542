"""Benchmarks (not tests). Run from the repository root, e.g. ``python -m bench.bench_validation``."""
