"""The corpus pass: vocabulary, token ids, subsampling and phrases."""
