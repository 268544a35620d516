"""GloVe: kernels and the model's lifecycle."""
