"""待办 providers of 结果应用 (stub, filled in by the rectification part)."""
