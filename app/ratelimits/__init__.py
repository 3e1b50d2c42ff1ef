"""Per-client rate limits, counted across every process (in the database, or in Redis)."""
