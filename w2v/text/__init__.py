"""Text in: reading files and streams, preprocessing, tokenizing."""
