"""Agency filing at scale (Art. 4, 11, 12): the information-system census, compilation
campaigns, IT projects funded by the budget with their public data lists, and collection
lists. Part of the `catalog` app; its models are imported by catalog/models.py."""
