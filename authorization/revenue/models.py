"""Models of authorization.revenue."""
