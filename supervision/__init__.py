"""Chapter 9: supervision: evaluation, inspections, rectification orders, disputes, the city dashboard."""
