"""Disputes (Art. 30): the parties negotiate first, within a time limit in working days; if
they do not settle, the city bureau coordinates, with meetings, minutes and a decision the
parties see."""
