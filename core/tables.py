"""Imports every module that defines tables, so migrations and tests see the whole schema.

Every table lives in `core` (features above read and write them through these modules); add a
module here when you add tables.
"""

import core.aggregates
import core.audit
import core.cycles
import core.faq.models
import core.kpi
import core.leadreport
import core.leases
import core.links
import core.models
import core.orgimport
import core.outbox
import core.reporting
import core.sendbudget
import core.supportdata
import core.wellbeing  # noqa: F401
