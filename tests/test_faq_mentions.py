"""@mentions in replies: carried through the outbox payload and rendered as Teams mention
entities, both for outbox sends and for replies sent during a turn."""

from __future__ import annotations

import pytest

from bot.connector import outgoing_activity
from bot.handler import reply_messages
from core.events import ChannelPost, Mention, Reply, reply_from_payload, reply_payload

MENTION = Mention("29:alex", "Alex Wilber")
REPLY = Reply(text=f"{MENTION.tag} an HR expert has answered your question.", mentions=(MENTION,))
ENTITY = {
    "type": "mention",
    "text": "<at>Alex Wilber</at>",
    "mentioned": {"id": "29:alex", "name": "Alex Wilber"},
}


def test_a_mention_must_appear_in_the_text():
    with pytest.raises(ValueError, match="must appear"):
        Reply(text="an HR expert answered", mentions=(MENTION,))


def test_mentions_survive_the_outbox_payload():
    queued = Reply(text=REPLY.text, mentions=REPLY.mentions, to=ChannelPost("19:c", "1"))
    restored = reply_from_payload(reply_payload(queued))
    assert restored.mentions == (MENTION,) and restored.text == REPLY.text
    assert "mentions" not in reply_payload(Reply(text="plain"))  # old payloads stay as they were


def test_outbox_sends_carry_the_mention_entity():
    activity = outgoing_activity(REPLY)
    assert activity["entities"] == [ENTITY]
    assert "entities" not in outgoing_activity(Reply(text="plain"))


def test_replies_in_the_turn_carry_the_mention_entity():
    [sent] = reply_messages(REPLY)
    assert sent["text"] == REPLY.text
    assert sent["entities"] == [ENTITY]
