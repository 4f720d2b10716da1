"""A test-only Django app: a tiny model to drive the kernel's workflow helper."""
