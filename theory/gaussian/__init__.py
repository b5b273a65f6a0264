from ._all import *  # noqa: F401,F403  (temporary: split into modules below)
from ._all import __all__, _mix_numeric  # noqa: F401
