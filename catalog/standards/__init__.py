"""The standards part of the catalog (Art. 9): data elements, code lists, and the agencies'
change requests reviewed by the data bureau. Its models belong to the `catalog` app."""
