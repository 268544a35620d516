"""Co-occurrence counting in bounded memory and the count file."""
