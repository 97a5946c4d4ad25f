"""Privacy by construction, checked on the code itself: no manager-facing module can reach
answers or other per-person rows; figures cannot exist below the threshold; and the data
inventory in docs/privacy.md names every table that exists."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import SQLModel

import core.store.tables  # noqa: F401
from core.privacy import aggregates, persondata
from core.privacy.aggregates import TEAM, Figures, PrivacyConfig
from dialogs import rights

ROOT = Path(__file__).resolve().parent.parent
MANAGER_FACING = ("dialogs/manager.py", "scheduler/digests.py", "core/reporting/frozen.py")
FORBIDDEN_MODULES = {"core.store.wellbeing", "core.store.supportdata", "signposting.referrals"}
FORBIDDEN_NAMES = {
    "CheckinAnswer",
    "CycleRecipient",
    "FrozenRespondent",
    "TeamMember",
    "Participation",
    "StateRecord",
    "OutboxMessage",
    "CoordinatorRequest",
    "Response",
    "cycle_responses",
    "count_member",
    "forget_member",
    "_SEAL",
}


def _imports_and_names(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module or "")
            names |= {alias.name for alias in node.names}
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return modules, names


@pytest.mark.parametrize("module", MANAGER_FACING)
def test_manager_facing_code_cannot_reach_per_person_rows(module):
    modules, names = _imports_and_names(ROOT / module)
    assert not modules & FORBIDDEN_MODULES, modules & FORBIDDEN_MODULES
    assert not names & FORBIDDEN_NAMES, names & FORBIDDEN_NAMES
    assert "pseudonym" not in names


def test_only_the_aggregates_module_reads_answers_for_reporting():
    readers = set()
    for path in (ROOT / "core").rglob("*.py"):
        if "CheckinAnswer" in path.read_text(encoding="utf-8"):
            readers.add(path.relative_to(ROOT).as_posix())
    # the table itself, the one privacy module, the per-person inventory (a person's own export,
    # erasure and retention) and key rotation
    assert readers == {
        "core/store/wellbeing.py",
        "core/privacy/aggregates.py",
        "core/privacy/persondata.py",
        "core/privacy/retention.py",
    }


def _figures(**overrides) -> dict:
    values = {
        "kind": TEAM,
        "key": "t",
        "respondents": 5,
        "population": 8,
        "mood": (1, 1, 1, 1, 1),
        "affecting": (),
        "pulse": (),
        "k": 5,
    }
    return {**values, **overrides}


def test_figures_cannot_be_made_outside_the_module_or_below_the_threshold():
    with pytest.raises(TypeError):
        Figures(**_figures())
    with pytest.raises(ValueError):
        Figures(**_figures(respondents=4, mood=(1, 1, 1, 1, 0)), seal=aggregates._SEAL)
    with pytest.raises(ValueError):
        Figures(**_figures(population=5), seal=aggregates._SEAL)
    with pytest.raises(ValueError):
        Figures(**_figures(k=2, respondents=2, mood=(1, 1, 0, 0, 0)), seal=aggregates._SEAL)


def test_k_is_never_below_three():
    assert PrivacyConfig().k == 5
    with pytest.raises(ValueError, match="at least 3"):
        PrivacyConfig(k=2)


def _inventory() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    section = text.split("## Data inventory", 1)[1]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_the_data_inventory_names_every_table_and_nothing_else():
    inventory = _inventory()
    tables = set(SQLModel.metadata.tables)
    assert not tables - set(inventory), f"add to docs/privacy.md: {sorted(tables - set(inventory))}"
    assert not set(inventory) - tables, f"no such table: {sorted(set(inventory) - tables)}"
    for table, cells in inventory.items():
        assert len(cells) == 5 and all(cells), f"{table}: every column needs an entry"
        assert cells[1] in {"identity", "wellbeing", "aggregate", "operational"}, table


def test_every_table_with_a_person_column_is_in_the_per_person_inventory():
    """Export, erasure and retention walk core/privacy/persondata.py's inventory: a new table that names
    a person must join it (or say why its column leads back to nobody)."""
    declared = {h.table for h in persondata.INVENTORY} | set(persondata.NOT_ABOUT_A_PERSON)
    naming_a_person = {
        name
        for name, table in SQLModel.metadata.tables.items()
        if set(table.columns.keys()) & persondata.PERSON_COLUMN_NAMES
    }
    assert not naming_a_person - declared, (
        f"add to core/privacy/persondata.py's INVENTORY: {sorted(naming_a_person - declared)}"
    )


def test_each_inventory_entry_names_a_real_column_and_a_documented_table():
    tables = SQLModel.metadata.tables
    documented = _inventory()
    for entry in persondata.INVENTORY:
        assert entry.person_column in tables[entry.table].columns, entry.table
        assert documented[entry.table][1] in {"identity", "wellbeing"}, entry.table
        assert entry.on_erasure and entry.on_leaving and entry.retention, entry.table
    tables_once = [h.table for h in persondata.INVENTORY]
    assert len(tables_once) == len(set(tables_once))


def test_the_export_shows_every_exported_part_of_the_inventory(org):
    """A table added to the inventory with an export key must be shown in the person's export."""
    who = persondata.Subject("aad", "pseudonym", frozenset())
    services = SimpleNamespace(secrets=None, org=org)
    shown = rights._shown(services, {1: date(2026, 1, 7)}, who)
    exported = [h.export for h in persondata.INVENTORY if h.export]
    assert list(shown) == exported
