"""FAQ files in and out: YAML or CSV with the same columns, checked whole before anything is
written, so a bad file names its lines and changes nothing; export then import changes nothing.

Columns (CSV header, or keys of each item under `entries:` in YAML):

| column | required | meaning |
| --- | --- | --- |
| id | yes | stable slug: lower-case letters, digits and hyphens, e.g. `welcome-back-vs-rtw` |
| question | yes | the question as the FAQ shows it (one line) |
| phrasings | no | other ways people ask it; in CSV separated by " | " |
| answer | yes | the answer in Teams markdown (bold, lists, links); may span lines |
| tags | no | topic words that help matching; in CSV separated by " | " |
| owner | yes | who keeps the answer right, e.g. `HR policy team` |
| last_reviewed | yes | date, YYYY-MM-DD |
| retired | no | true or false (default false): retired entries are kept but never offered |
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import upsert_insert
from core.faq.models import FaqEntry

COLUMNS = ("id", "question", "phrasings", "answer", "tags", "owner", "last_reviewed", "retired")
REQUIRED = frozenset({"id", "question", "answer", "owner", "last_reviewed"})
LIST_COLUMNS = frozenset({"phrasings", "tags"})
LIST_SEPARATOR = " | "
ENTRY_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MAX_ERRORS = 50


def _clean_list(values: list[str], what: str) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        value = " ".join(str(value).split())
        if not value:
            raise ValueError(f"{what} cannot contain an empty item")
        if "|" in value:
            raise ValueError(f"{what} items cannot contain '|' (it separates items in CSV)")
        if value in cleaned:
            raise ValueError(f"{what} lists {value!r} twice")
        cleaned.append(value)
    return cleaned


class EntryData(BaseModel):
    """One FAQ entry as files, cards and the index see it (validated; whitespace tidied)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="stable slug")
    question: str = Field(min_length=1, max_length=500)
    phrasings: tuple[str, ...] = ()
    answer: str = Field(min_length=1, max_length=6000)
    tags: tuple[str, ...] = ()
    owner: str = Field(min_length=1, max_length=120)
    last_reviewed: date
    retired: bool = False

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        value = value.strip()
        if not ENTRY_ID.match(value):
            raise ValueError(
                f"{value!r} is not an id: use lower-case letters, digits and hyphens "
                "(up to 80), e.g. welcome-back-vs-rtw"
            )
        return value

    @field_validator("question", "owner", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        if isinstance(value, str):
            if "\n" in value.strip():
                raise ValueError("must be a single line")
            return " ".join(value.split())
        return value

    @field_validator("answer", mode="before")
    @classmethod
    def _tidy_answer(cls, value: Any) -> Any:
        if isinstance(value, str):
            lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            return "\n".join(line.rstrip() for line in lines).strip()
        return value

    @field_validator("phrasings", "tags", mode="before")
    @classmethod
    def _list(cls, value: Any, info) -> Any:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [part for part in value.split("|") if part.strip()] if value.strip() else []
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list")
        return tuple(_clean_list(list(value), info.field_name))

    @field_validator("last_reviewed", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError as error:
                raise ValueError(f"{value!r} is not a date like 2026-11-23") from error
        return value

    @field_validator("retired", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        if isinstance(value, str):
            said = value.strip().lower()
            if said in {"", "false", "no", "0"}:
                return False
            if said in {"true", "yes", "1"}:
                return True
            raise ValueError(f"{value!r} is not true or false")
        return value

    @classmethod
    def from_row(cls, row: FaqEntry) -> EntryData:
        return cls(
            id=row.id,
            question=row.question,
            phrasings=tuple(row.phrasings or ()),
            answer=row.answer,
            tags=tuple(row.tags or ()),
            owner=row.owner,
            last_reviewed=row.last_reviewed,
            retired=row.retired,
        )

    def as_record(self) -> dict[str, Any]:
        """Plain values in column order (lists as lists, the date as a date)."""
        return {
            "id": self.id,
            "question": self.question,
            "phrasings": list(self.phrasings),
            "answer": self.answer,
            "tags": list(self.tags),
            "owner": self.owner,
            "last_reviewed": self.last_reviewed,
            "retired": self.retired,
        }


class FaqFileError(Exception):
    """A file that cannot be imported: every problem found, each naming its line."""

    def __init__(self, source: str, problems: Sequence[str]):
        self.source = source
        self.problems = list(problems)
        shown = self.problems[:MAX_ERRORS]
        more = len(self.problems) - len(shown)
        lines = "\n".join(f"  {p}" for p in shown) + (f"\n  … and {more} more" if more else "")
        super().__init__(
            f"{source}: {len(self.problems)} problem(s); nothing was imported:\n{lines}"
        )


def describe_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(field, message) pairs from pydantic, in our words."""
    found = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is missing"
        elif item["type"] == "string_too_short":
            message = "is empty"
        elif item["type"] == "extra_forbidden":
            message = f"is not a column (columns: {', '.join(COLUMNS)})"
        found.append((field, message))
    return found


def _validate(
    items: Iterable[tuple[int, dict[str, Any], dict[str, int]]], source: str
) -> list[EntryData]:
    """Validate (line, values, line of each key) items; raise FaqFileError listing every problem."""
    entries: list[EntryData] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for line, values, key_lines in items:
        try:
            entry = EntryData.model_validate(values)
        except ValidationError as error:
            label = f" ({values['id']})" if isinstance(values.get("id"), str) else ""
            for field, message in describe_errors(error):
                where = key_lines.get(field, line)
                problems.append(f"line {where}{label}: {field}: {message}")
            continue
        if entry.id in first_line:
            problems.append(
                f"line {line}: id: {entry.id!r} is used again (first on line {first_line[entry.id]})"
            )
            continue
        first_line[entry.id] = line
        entries.append(entry)
    if problems:
        raise FaqFileError(source, problems)
    return entries


def parse_yaml(text: str, source: str = "FAQ file") -> list[EntryData]:
    """Entries from YAML: a mapping with `entries:`, a list of mappings with the columns."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "line 1"
        raise FaqFileError(
            source, [f"{where}: not valid YAML: {getattr(error, 'problem', None) or error}"]
        ) from error
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise FaqFileError(source, ["line 1: expected a mapping with an `entries:` list"])
    entries_node = next(value for key, value in root.value if key.value == "entries")
    items = []
    for node, values in zip(entries_node.value, data["entries"], strict=True):
        line = node.start_mark.line + 1
        if not isinstance(values, dict):
            items.append((line, {"__not_a_mapping__": True}, {}))
            continue
        key_lines = {
            str(key.value): value.start_mark.line + 1
            for key, value in getattr(node, "value", [])
            if isinstance(key, yaml.ScalarNode)
        }
        items.append((line, values, key_lines))
    bad = [line for line, values, _ in items if "__not_a_mapping__" in values]
    if bad:
        raise FaqFileError(source, [f"line {line}: each entry must be a mapping" for line in bad])
    return _validate(items, source)


def parse_csv(text: str, source: str = "FAQ file") -> list[EntryData]:
    """Entries from CSV with a header row; list columns separated by " | "."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise FaqFileError(source, ["line 1: the file is empty (expected a header row)"]) from None
    except csv.Error as error:
        raise FaqFileError(source, [f"line 1: not valid CSV: {error}"]) from error
    problems = []
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        problems.append(f"line 1: unknown column(s) {unknown} (columns: {', '.join(COLUMNS)})")
    missing = sorted(REQUIRED - set(header))
    if missing:
        problems.append(f"line 1: missing column(s) {missing}")
    if len(set(header)) != len(header):
        problems.append("line 1: a column is named twice")
    if problems:
        raise FaqFileError(source, problems)
    items = []
    start = reader.line_num + 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(f"line {line}: has {len(row)} cells, the header has {len(header)}")
                continue
            values = {name: cell for name, cell in zip(header, row, strict=True)}
            items.append((line, values, {}))
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: not valid CSV: {error}")
    if problems:
        raise FaqFileError(source, problems)
    return _validate(items, source)


def file_kind(path: Path) -> str:
    """The file's type from its extension, csv or yaml (FaqFileError for anything else)."""
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        return "yaml"
    if suffix == ".csv":
        return "csv"
    raise FaqFileError(
        str(path), [f"line 1: unknown file type {suffix!r}: use .csv, .yaml or .yml"]
    )


def read_file(path: Path) -> list[EntryData]:
    """Entries from a .csv, .yaml or .yml file, all valid, or FaqFileError naming the lines."""
    kind = file_kind(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise FaqFileError(
            str(path), [f"line 1: cannot read the file ({error.strerror})"]
        ) from error
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise FaqFileError(str(path), [f"line {line}: not UTF-8 text"]) from error
    return parse_yaml(text, str(path)) if kind == "yaml" else parse_csv(text, str(path))


class _BlockStrings(yaml.SafeDumper):
    """Multi-line answers as literal blocks, so an exported YAML file reads like the seed file."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStrings.add_representer(str, _represent_str)


def dump_yaml(entries: Sequence[EntryData]) -> str:
    return yaml.dump(
        {"entries": [entry.as_record() for entry in entries]},
        Dumper=_BlockStrings,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


def dump_csv(entries: Sequence[EntryData]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        record = entry.as_record()
        writer.writerow(
            [
                LIST_SEPARATOR.join(record[c])
                if c in LIST_COLUMNS
                else ("true" if record[c] else "false")
                if c == "retired"
                else record[c].isoformat()
                if c == "last_reviewed"
                else record[c]
                for c in COLUMNS
            ]
        )
    return out.getvalue()


def write_file(path: Path, entries: Sequence[EntryData]) -> None:
    """Write entries as CSV or YAML by the file's extension."""
    text = dump_yaml(entries) if file_kind(path) == "yaml" else dump_csv(entries)
    path.write_text(text, encoding="utf-8", newline="")


def seed_entries() -> list[EntryData]:
    """The FAQ the project ships (core/faq/data/faq.yaml), validated."""
    source = resources.files("core.faq") / "data" / "faq.yaml"
    return parse_yaml(source.read_text(encoding="utf-8"), "core/faq/data/faq.yaml")


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


def _apply(row: FaqEntry, entry: EntryData) -> bool:
    """Copy entry's fields onto row; True when anything changed."""
    changed = False
    for name, value in entry.as_record().items():
        if name == "id":
            continue
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def save_entries(
    session: AsyncSession, entries: Sequence[EntryData], now: datetime
) -> ImportResult:
    """Add new entries and update changed ones (in the caller's transaction); identical entries
    are left untouched, so importing an export changes nothing. Entries not listed are kept."""
    wanted = {entry.id: entry for entry in entries}
    existing = (
        {
            row.id: row
            for row in (
                await session.exec(select(FaqEntry).where(FaqEntry.id.in_(list(wanted))))
            ).all()
        }
        if wanted
        else {}
    )
    added = updated = unchanged = 0
    for entry in entries:
        row = existing.get(entry.id)
        if row is None:
            row = FaqEntry(id=entry.id, created_at=now, updated_at=now, **_fields(entry))
            session.add(row)
            added += 1
        elif _apply(row, entry):
            row.revision += 1
            row.updated_at = now
            session.add(row)
            updated += 1
        else:
            unchanged += 1
    return ImportResult(added, updated, unchanged)


def _fields(entry: EntryData) -> dict[str, Any]:
    record = entry.as_record()
    record.pop("id")
    return record


async def all_entries(session: AsyncSession) -> list[EntryData]:
    """Every entry, retired ones too, in id order (what export writes)."""
    rows = (await session.exec(select(FaqEntry).order_by(FaqEntry.id))).all()
    return [EntryData.from_row(row) for row in rows]


async def seed_if_empty(session: AsyncSession, now: datetime) -> int:
    """Load the shipped FAQ when the table is empty; safe to run again and on several replicas
    at once (a row another replica inserted first is skipped). Returns entries added."""
    if (await session.exec(select(FaqEntry.id).limit(1))).first() is not None:
        return 0
    added = 0
    for entry in seed_entries():
        statement = (
            upsert_insert(session, FaqEntry)
            .values(id=entry.id, revision=1, created_at=now, updated_at=now, **_fields(entry))
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(FaqEntry.id)
        )
        if (await session.exec(statement)).first() is not None:
            added += 1
    return added
