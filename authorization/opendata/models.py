"""Models of authorization.opendata (imported by authorization/models.py)."""
