"""Benchmark scenarios for `hookcam bench`: ours and the original tool re-created, same run."""
