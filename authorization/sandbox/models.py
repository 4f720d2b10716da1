"""Models of authorization.sandbox (imported by authorization/models.py)."""
