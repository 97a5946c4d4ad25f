"""The HR FAQ knowledge base: entries, retrieval, import and export, and its counters.

Shared by dialogs (answering in Teams), the command line (import, export, seed) and reports.
Nothing here imports botbuilder or aiohttp.
"""
