"""authorization.interop: the open catalog in the world's formats (DCAT 3 / DCAT-AP 3 RDF, a CKAN-compatible action API, feeds)."""
