"""PPMI and truncated SVD."""
