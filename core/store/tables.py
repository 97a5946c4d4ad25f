"""Imports every module that defines tables, so migrations and tests see the whole schema.

Every table lives in `core` (features above read and write them through these modules); add a
module here when you add tables.
"""

import core.config.orgimport
import core.faq.models
import core.privacy.aggregates
import core.privacy.links
import core.reporting.frozen
import core.reporting.kpi
import core.reporting.leadreport
import core.store.audit
import core.store.cycles
import core.store.leases
import core.store.models
import core.store.outbox
import core.store.sendbudget
import core.store.supportdata
import core.store.wellbeing  # noqa: F401
