"""Data quality (Art. 10): rules derived from the published items and data elements plus the
bureau's custom rules, set-based runs in SQL, scores per dimension, and the quality issue
list (问题清单) with its rectification workflow."""
