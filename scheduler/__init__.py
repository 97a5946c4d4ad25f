"""Scheduled work and delivery: cadences, the durable outbox and the pacing of sends.

Imports no Teams code: bot/ supplies a Transport that actually talks to the Bot Connector.
"""
