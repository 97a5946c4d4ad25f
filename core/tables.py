"""Imports every module that defines tables, so migrations and tests see the whole schema.

Tables live beside the code that owns them; add a module here when you add tables.
"""

import core.aggregates
import core.audit
import core.faq.models
import core.kpi
import core.leadreport
import core.links
import core.models
import core.orgimport
import core.reporting
import core.wellbeing  # noqa: F401
import scheduler.models  # noqa: F401
import signposting.models  # noqa: F401
