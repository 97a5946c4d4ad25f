"""Persistence: the tables (identity and routing, cycles, answers, requests, the audit log), the
outbox queue and the leases; `core/db.py` and `core/migrations/` hold the engine and schema."""
