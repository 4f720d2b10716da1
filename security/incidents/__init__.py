"""Incidents, emergency plans and drills (Art. 26)."""
