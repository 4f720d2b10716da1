"""authorization.operation: authorized operation (Art. 18-20): operation scope, authorizations, operator products within fee caps, usage, yearly disclosure; the public disclosure pages."""
