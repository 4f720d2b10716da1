"""Objections of data users to published data (Art. 10): filed by a signed-in user, decided
and consulted on by the city data bureau, carried out by the provider, closed by the bureau."""
