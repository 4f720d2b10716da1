"""The models of the supervision app live in its sub-packages; Django finds them here."""
