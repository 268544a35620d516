"""Sentence and document vectors: pooling, embedding, indexes and search."""
