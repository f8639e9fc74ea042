"""Benchmarks (`make bench`): every figure is reported with a baseline measured in the same run."""
