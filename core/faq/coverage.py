"""Does the FAQ hold the toolkit's facts? One measure of "holds", used twice: by the coverage
check (every section, table, named resource and contact of the North West toolkit has an entry)
and by bench/faq_eval.py (did the entry the bot chose hold the answer to a question).

A text holds a quote when at least HOLDS_AT of the quote's content words are in the text:
words after normalising (lower case, no punctuation), without the FAQ's stopwords, compared by
their Snowball stem, each counted once. So "Up to 75 participants per session" is held by
"up to 75 people per session" (75, per, session: 3 of 4 content words, 75%) and not by an entry
that never says 75.

The toolkit's outline (core/faq/data/toolkit_outline.yaml) lists each heading with the toolkit's
own words under it, short enough to check; an item is covered when a live entry's answer holds
its quote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from core.faq.io import EntryData
from core.faq.search import STOPWORDS, normalise, stem

HOLDS_AT = 0.6
"""Share of a quote's content words a text must contain to hold it."""


def content_words(text: str) -> frozenset[str]:
    """The stems of a text's words that carry meaning (no stopwords), each once."""
    return frozenset(stem(word) for word in normalise(text).split() if word not in STOPWORDS)


def share_held(quote: str, text: str) -> float:
    """The share of the quote's content words that the text contains (1.0 for an empty quote)."""
    wanted = content_words(quote)
    return len(wanted & content_words(text)) / len(wanted) if wanted else 1.0


def holds(quote: str, text: str, at: float = HOLDS_AT) -> bool:
    return share_held(quote, text) >= at


Kind = Literal["section", "table", "resource", "contact"]


class ToolkitItem(BaseModel):
    """One heading of the toolkit and the words under it that a trainer could ask about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    part: str = Field(min_length=1, description="the chapter or step it sits in")
    title: str = Field(min_length=1, description="the heading, as the toolkit prints it")
    quote: str = Field(min_length=1, description="the toolkit's own words under the heading")


class ToolkitOutline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    items: tuple[ToolkitItem, ...]


@lru_cache(maxsize=1)
def toolkit_outline() -> ToolkitOutline:
    """The shipped outline of the North West toolkit."""
    text = (resources.files("core.faq") / "data" / "toolkit_outline.yaml").read_text("utf-8")
    return ToolkitOutline.model_validate(yaml.safe_load(text))


@dataclass(frozen=True)
class Coverage:
    """Which live entries hold each outline item, and the items none holds."""

    held_by: dict[ToolkitItem, tuple[str, ...]]

    @property
    def missing(self) -> list[ToolkitItem]:
        return [item for item, entries in self.held_by.items() if not entries]


def coverage(entries: Iterable[EntryData], outline: ToolkitOutline | None = None) -> Coverage:
    """Map every outline item to the live entries whose answers hold its quote."""
    outline = outline or toolkit_outline()
    answers = [(entry.id, content_words(entry.answer)) for entry in entries if not entry.retired]
    held_by: dict[ToolkitItem, tuple[str, ...]] = {}
    for item in outline.items:
        wanted = content_words(item.quote)
        held_by[item] = tuple(
            entry_id
            for entry_id, words in answers
            if wanted and len(wanted & words) / len(wanted) >= HOLDS_AT
        )
    return Coverage(held_by)
