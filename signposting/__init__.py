"""Signposting: the service directory, need and crisis detection, routing and coordinator requests.

Plain Python and data; no Teams code. The dialogs in dialogs/support.py put it in front of people.
"""
