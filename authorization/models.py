"""The models of the authorization app live in its sub-packages; Django finds them here."""

from .interop.models import *  # noqa: F401,F403
from .opendata.models import *  # noqa: F401,F403
from .operation.models import *  # noqa: F401,F403
from .pilots.models import *  # noqa: F401,F403
from .revenue.models import *  # noqa: F401,F403
from .sandbox.models import *  # noqa: F401,F403
from .sharing.models import *  # noqa: F401,F403
from .supply.models import *  # noqa: F401,F403
