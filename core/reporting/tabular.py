"""Reading an imported table (CSV with a header line, or YAML as a list of rows) with every
problem named by its line, so that a bad file can be refused whole. Shared by `org import` and
`kpi import`; each checks its own values."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from pathlib import Path

import yaml


class ImportProblems(Exception):
    """A file that cannot be imported; `problems` lists each, with its line number."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{source}: {len(problems)} problem(s); nothing was imported:\n"
            + "\n".join(f"  {p}" for p in problems)
        )


def read_table_file(path: Path, error: type[ImportProblems]) -> tuple[str, str]:
    """The text of a .csv, .yaml or .yml file and which of the two it is; `error` (the
    import's own ImportProblems) says what is wrong with the file itself."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise error(str(path), ["line 1: use a .csv, .yaml or .yml file"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as problem:
        raise error(str(path), [f"line 1: cannot read the file ({problem.strerror})"]) from problem
    except UnicodeDecodeError as problem:
        raise error(str(path), ["line 1: the file is not UTF-8 text"]) from problem
    return text, "csv" if suffix == ".csv" else "yaml"


def column_name(name: object) -> str:
    """A header as written ("Days lost", "days-lost") to the column's name (days_lost)."""
    return str(name or "").strip().lower().replace(" ", "_").replace("-", "_")


def unknown_column(name: str, line: int, columns: Sequence[str]) -> str:
    return f"line {line}: unknown column {name!r} (the columns are {', '.join(columns)})"


def csv_rows(
    text: str, problems: list[str], columns: Sequence[str], required: Collection[str]
) -> list[tuple[int, dict[str, object]]]:
    """(line, row) for each non-blank CSV line; header problems are added to `problems`."""
    reader = csv.DictReader(io.StringIO(text))
    header = [column_name(h) for h in (reader.fieldnames or [])]
    if not header:
        problems.append("line 1: the file is empty; the first line names the columns")
        return []
    reader.fieldnames = header
    problems.extend(unknown_column(name, 1, columns) for name in header if name not in columns)
    problems.extend(
        f"line 1: the column {name!r} is missing" for name in required if name not in header
    )
    rows = []
    for row in reader:
        if None in row:
            problems.append(f"line {reader.line_num}: more values than columns")
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue
        rows.append((reader.line_num, dict(row)))
    return rows


def yaml_mappings(
    text: str, problems: list[str], example: str
) -> list[tuple[int, yaml.MappingNode]]:
    """(line, node) for each row of a YAML list; `example` shows a row's start in the error."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problems.append(f"line {line}: not valid YAML ({getattr(error, 'problem', error)})")
        return []
    if root is None or not isinstance(root, yaml.SequenceNode):
        problems.append(f"line 1: expected a list of rows ({example})")
        return []
    rows = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problems.append(f"line {line}: each row is a mapping of column: value")
            continue
        rows.append((line, node))
    return rows
