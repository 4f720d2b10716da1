"""registration.applications: the registration procedure (Art. 25): apply, accept, review, public notice and objections, code, certificate, changes and cancellation, the public register."""
