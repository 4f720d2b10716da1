"""Excel bulk filing: a template agencies download and fill, and an upload that checks every
row with the catalog's rules and imports all rows as drafts or none. Part of `catalog`."""
