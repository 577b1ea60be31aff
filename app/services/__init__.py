"""Use cases: the one API that ui/ and the CLI call."""
