"""Models of registration.evidence."""
