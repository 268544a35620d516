"""Bias tests (WEAT) and debiasing (hard, INLP, double-hard)."""
