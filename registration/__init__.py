"""Chapter 7: registration of public data resources, products and open data, with publicly verifiable evidence."""
