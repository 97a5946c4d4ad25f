"""Logging set-up that keeps personal data out of logs, whatever level is asked for.

Our own log lines never carry message text or ids. Libraries below us log SQL parameters and
HTTP bodies at DEBUG, so they are held at WARNING even when the bot runs at DEBUG.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

CHATTY_LIBRARIES = (
    "aiosqlite",
    "sqlalchemy",
    "alembic",
    "msrest",
    "msal",
    "requests_oauthlib",
    "botbuilder",
    "botframework",
    "psycopg",
    "asyncio",
    "apscheduler",
)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # urllib3 warns about retries with the full URL, which holds conversation ids.
    logging.getLogger("urllib3").setLevel(logging.ERROR)


def describe(error: BaseException) -> str:
    """An exception's class and where it was raised, without its message.

    Messages of library errors carry SQL parameters, URLs with conversation ids and request
    bodies, so they stay out of the logs; the class and the frames are enough to debug.
    """
    frames = traceback.extract_tb(error.__traceback__)
    where = " <- ".join(
        f"{f.name} ({Path(f.filename).name}:{f.lineno})" for f in reversed(frames[-6:])
    )
    chain = type(error).__name__
    cause = error.__cause__ or error.__context__
    if cause is not None:
        chain += f" (from {type(cause).__name__})"
    return f"{chain} at {where}" if where else chain
