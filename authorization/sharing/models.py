"""Models of authorization.sharing (imported by authorization/models.py)."""
