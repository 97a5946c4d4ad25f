"""The botbuilder Storage contract, on the bot's own database."""

from __future__ import annotations

import json

import pytest
from botbuilder.core import StoreItem
from botbuilder.testing.storage_base_tests import StorageBaseTests
from sqlalchemy import update

from bot.storage import DatabaseStorage, ETagConflictError, UnsafeDocumentError
from core import db
from core.store.models import StateRecord
from tests.support.clock import Clock


@pytest.fixture
async def storage(database_url):
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    yield DatabaseStorage(db.session_factory(engine), Clock())
    await engine.dispose()


async def test_read_of_missing_keys_is_empty(storage):
    assert await storage.read(["nothing-here"]) == {}
    assert await storage.read([]) == {}


async def test_write_read_delete_round_trip(storage):
    await storage.write({"a": {"count": 1, "words": ["x"]}, "b": StoreItem(step="mood")})
    found = await storage.read(["a", "b", "c"])
    assert found["a"]["count"] == 1 and found["a"]["words"] == ["x"]
    assert isinstance(found["b"], StoreItem) and found["b"].step == "mood"  # as it was written
    assert found["a"]["e_tag"] and found["a"]["e_tag"] != found["b"].e_tag
    await storage.delete(["a", "missing"])
    assert list(await storage.read(["a", "b"])) == ["b"]


async def test_matching_etag_writes_and_stale_etag_conflicts(storage):
    await storage.write({"k": {"v": 1}})
    first = (await storage.read(["k"]))["k"]
    old_etag = first["e_tag"]
    first["v"] = 2
    await storage.write({"k": first})
    second = (await storage.read(["k"]))["k"]
    assert second["v"] == 2 and second["e_tag"] != old_etag
    assert first["e_tag"] == second["e_tag"]  # the writer's copy learns the new e-tag

    stale = dict(second, v=3, e_tag="not-the-current-etag")
    with pytest.raises(ETagConflictError):
        await storage.write({"k": stale})
    assert (await storage.read(["k"]))["k"]["v"] == 2


async def test_star_etag_and_no_etag_overwrite(storage):
    await storage.write({"k": {"v": 1}})
    await storage.write({"k": {"v": 2, "e_tag": "*"}})
    assert (await storage.read(["k"]))["k"]["v"] == 2
    await storage.write({"k": {"v": 3}})
    assert (await storage.read(["k"]))["k"]["v"] == 3


async def test_two_writers_from_the_same_read_one_wins(storage):
    await storage.write({"k": {"v": 0}})
    copy_a = (await storage.read(["k"]))["k"]
    copy_b = (await storage.read(["k"]))["k"]
    await storage.write({"k": dict(copy_a, v="a")})
    with pytest.raises(ETagConflictError):
        await storage.write({"k": dict(copy_b, v="b")})
    assert (await storage.read(["k"]))["k"]["v"] == "a"


async def test_empty_etag_and_bad_items_are_refused(storage):
    with pytest.raises(ValueError):
        await storage.write({"k": {"v": 1, "e_tag": ""}})
    with pytest.raises(TypeError):
        await storage.write({"k": object()})
    with pytest.raises(TypeError):
        await storage.write({"k": Clock()})  # only the SDK's classes are stored as objects
    assert await storage.read(["k"]) == {}


@pytest.mark.parametrize(
    "document",
    [
        {"py/object": "subprocess.Popen", "args": "true"},
        {"x": {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": ["true"]}]}},
        {"x": {"py/repr": "os/os.system('true')"}},
        {"x": [{"py/type": "builtins.eval"}]},
    ],
    ids=["foreign-object", "function", "repr", "foreign-type"],
)
async def test_a_stored_document_naming_code_outside_the_sdk_is_refused(storage, document):
    """jsonpickle builds whatever a document names; a row edited to name code is never run."""
    await storage.write({"k": {"v": 1}})
    async with storage._sessions() as session:
        await session.exec(update(StateRecord).values(document=json.dumps(document)))
        await session.commit()
    with pytest.raises(UnsafeDocumentError):
        await storage.read(["k"])


async def test_conversation_state_survives_a_new_storage_instance(database_url):
    """State written through one process's storage is read by the next (a restart)."""
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    await DatabaseStorage(db.session_factory(engine), Clock()).write(
        {"msteams/conversations/a:1/": {"dialog": {"step": "mood"}}}
    )
    await engine.dispose()

    engine = db.create_engine(database_url)
    found = await DatabaseStorage(db.session_factory(engine), Clock()).read(
        ["msteams/conversations/a:1/"]
    )
    assert found["msteams/conversations/a:1/"]["dialog"] == {"step": "mood"}
    await engine.dispose()


CONTRACT = sorted(
    name
    for name, member in vars(StorageBaseTests).items()
    if isinstance(member, staticmethod) and not name.startswith("_")
)


@pytest.mark.parametrize("check", CONTRACT)
async def test_the_bot_framework_storage_contract(storage, check):
    """The SDK's own tests for every Storage (botbuilder-testing), including its waterfall
    dialog keeping DialogState here between turns."""
    assert await getattr(StorageBaseTests, check)(storage) is True
