"""Skip-gram and CBOW: configuration, kernels and the model's lifecycle."""
