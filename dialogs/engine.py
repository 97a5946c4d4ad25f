"""A small engine for text dialogs: a dialog is a declared table of steps, validated when built,
with a cancel fallback and a timeout. Its state lives in the conversation state (the database),
never in memory, and what the person typed is encrypted there."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.context import Turn
from core.events import Reply
from dialogs.text import normalise

STATE_KEY = "dialog"
CANCEL_WORDS = frozenset({"cancel", "quit", "exit", "stop this", "never mind", "nevermind"})


class Invalid(ValueError):
    """What the person typed does not answer the step; the message says what would."""


@dataclass(frozen=True)
class Step:
    """Ask something, then turn the answer into a value (or raise Invalid)."""

    name: str
    ask: Callable[[Turn, dict[str, Any]], Reply]
    parse: Callable[[str], Any]


@dataclass(frozen=True)
class Dialog:
    """Steps in order, and what to do with the collected answers."""

    name: str
    steps: Sequence[Step]
    finish: Callable[[Turn, dict[str, Any]], Awaitable[list[Reply]]]
    timeout: timedelta = timedelta(hours=2)

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names:
            raise ValueError(f"dialog {self.name!r} has no steps")
        if len(set(names)) != len(names):
            raise ValueError(f"dialog {self.name!r} repeats a step name")


class DialogEngine:
    """Starts dialogs and continues the one in progress; a router stage."""

    def __init__(self, dialogs: Sequence[Dialog]):
        self.dialogs = {dialog.name: dialog for dialog in dialogs}
        if len(self.dialogs) != len(dialogs):
            raise ValueError("two dialogs share a name")

    def _save(self, turn: Turn, name: str, step: int, data: dict[str, Any]) -> None:
        secrets = turn.services.secrets
        turn.state[STATE_KEY] = {
            "name": name,
            "step": step,
            "started": turn.now.isoformat(),
            "data": secrets.encrypt(json.dumps(data)),
        }

    def _load(self, turn: Turn) -> tuple[Dialog, int, dict[str, Any], datetime] | None:
        saved = turn.state.get(STATE_KEY)
        if not saved or saved.get("name") not in self.dialogs:
            return None
        data = json.loads(turn.services.secrets.decrypt(saved["data"]))
        return (
            self.dialogs[saved["name"]],
            saved["step"],
            data,
            datetime.fromisoformat(saved["started"]),
        )

    def start(self, turn: Turn, name: str, data: dict[str, Any] | None = None) -> list[Reply]:
        dialog = self.dialogs[name]
        data = dict(data or {})
        self._save(turn, name, 0, data)
        return [dialog.steps[0].ask(turn, data)]

    @staticmethod
    def end(turn: Turn) -> None:
        turn.state.pop(STATE_KEY, None)

    def in_progress(self, turn: Turn) -> bool:
        return self._load(turn) is not None

    async def stage(self, turn: Turn) -> list[Reply] | None:
        """Continue the dialog in progress with what the person typed (router stage 3)."""
        loaded = self._load(turn)
        if loaded is None or turn.event.value:
            return None
        dialog, step_index, data, started = loaded
        if turn.now - started > dialog.timeout:
            self.end(turn)
            return None
        said = turn.event.text.strip()
        if normalise(said) in CANCEL_WORDS:
            self.end(turn)
            return [Reply(text="Okay, I've stopped that. Nothing was saved.")]
        step = dialog.steps[step_index]
        try:
            data[step.name] = step.parse(said)
        except Invalid as problem:
            return [Reply(text=f"{problem} (Or say **cancel** to stop.)")]
        if step_index + 1 < len(dialog.steps):
            self._save(turn, dialog.name, step_index + 1, data)
            return [dialog.steps[step_index + 1].ask(turn, data)]
        self.end(turn)
        return await dialog.finish(turn, data)
