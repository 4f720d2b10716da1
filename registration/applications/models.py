"""Models of registration.applications."""
