"""Demo sandbox data (filled in below)."""
