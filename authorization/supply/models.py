"""Models of authorization.supply (imported by authorization/models.py)."""
