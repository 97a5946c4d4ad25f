"""Imports every module that defines tables, so migrations and tests see the whole schema.

Tables live beside the code that owns them; add a module here when you add tables.
"""

import core.models  # noqa: F401
import scheduler.models  # noqa: F401
