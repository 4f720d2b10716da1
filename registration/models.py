"""The models of the registration app live in its sub-packages; Django finds them here."""

from .applications.models import *  # noqa: F401,F403
from .evidence.models import *  # noqa: F401,F403
