"""Reporting: frozen team figures, the wellbeing lead's report (figures, page and CSV), HR
figures and the reading of imported tables."""
