"""Models of authorization.interop."""
