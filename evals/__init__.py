"""`make eval`: each agent's quality on real public data (see run.py)."""
