"""Models of authorization.operation."""
