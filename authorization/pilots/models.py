"""Models of authorization.pilots."""
