"""Demo data of sharing (filled in below)."""
