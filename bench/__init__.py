"""Benchmarks: `make bench` runs every `bench/bench_*.py` module's `main()` and prints numbers.

They are measurements, not tests: nothing here asserts a time. Each module prints medians
and ratios measured side by side in one run, so the machine's noise affects both sides alike.
Every load stays on 127.0.0.1 and stops by itself (bounded counts and durations).
"""
