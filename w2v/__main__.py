"""`python -m w2v`: the command line."""
from .cli import run

run()
