"""Supervision inspections (Art. 28): the city bureau (or a district bureau, for the agencies of
its district and the operators it authorized) plans an inspection of an agency or an authorized
operator, tells the subject, inspects, records findings with evidence and follows each finding
up with a rectification order (Art. 31) or a stated reason for none."""
