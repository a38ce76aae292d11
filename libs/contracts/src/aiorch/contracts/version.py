"""The contracts' semantic version, carried as `schema_version` in every message.

Bump MAJOR for any incompatible change (field removed, type changed, new required
field); the compatibility test in `tests/test_compat.py` enforces it.
"""

SCHEMA_VERSION = "1.7.0"
SCHEMA_MAJOR = int(SCHEMA_VERSION.split(".")[0])
