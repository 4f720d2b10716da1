"""authorization.revenue: revenue distribution of authorized operation (Art. 21)."""
