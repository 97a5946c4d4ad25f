"""The web pages behind signed links (a person's export, the lead's report), and an access log
that never writes a link's token.

Opening a link (GET) shows a short page with one button and uses nothing: in-app browsers and
link scanners such as Safe Links fetch links before people do. The button (POST) uses the link
once and returns what it opens; a second use gets 410 Gone.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from core.context import Services
from core.privacy.links import LinkState

log = logging.getLogger(__name__)

NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


@dataclass(frozen=True)
class SignedLinkPage:
    """One kind of signed link: its path, its words, and what checking and using it do."""

    path: str
    title: str
    explain: str
    button: str
    ask_again: str
    """How to get a new link, for the expired and used pages."""
    check: Callable[[Services, str, datetime], Awaitable[LinkState]]
    use: Callable[[Services, str, datetime], Awaitable[tuple[LinkState, Any]]]
    """Uses the link: its state, and what it opens when READY."""
    render: Callable[[Any], bytes]
    """What the link opens, as the page's body."""
    content_type: str = "text/html"
    result_headers: dict[str, str] = field(default_factory=dict)


def _page(title: str, paragraphs: list[str], button: str | None = None, extra: str = "") -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if button:
        body += f'<form method="post"><button type="submit">{html.escape(button)}</button></form>'
    body += extra
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5;color:#222}button{font-size:1.1rem;padding:.7rem 1.2rem;border:0;"
        "border-radius:.4rem;background:#005eb8;color:#fff;cursor:pointer}"
        "dl{margin:.3rem 0 1rem}dt{font-weight:600;margin-top:.4rem}dd{margin:0 0 0 1rem}"
        "section{border-top:1px solid #ddd;padding-top:.5rem}a.button{display:inline-block;"
        "padding:.6rem 1rem;border-radius:.4rem;background:#005eb8;color:#fff;"
        "text-decoration:none}"
        f"</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _html(status: int, text: str) -> web.Response:
    headers = {**NO_STORE, "Content-Security-Policy": PAGE_POLICY}
    return web.Response(
        status=status, text=text, content_type="text/html", charset="utf-8", headers=headers
    )


def _refusal(spec: SignedLinkPage, state: LinkState) -> web.Response:
    if state is LinkState.USED:
        return _html(
            410,
            _page(
                "This link has been used",
                ["Each link works once, so nobody else can open it.", spec.ask_again],
            ),
        )
    return _html(
        404,
        _page("This link has expired", ["Links work for 15 minutes.", spec.ask_again]),
    )


def add_signed_link_routes(
    app: web.Application, spec: SignedLinkPage, services_key: web.AppKey
) -> None:
    """GET shows the page with its button; POST uses the link and returns what it opens."""

    async def show(request: web.Request) -> web.Response:
        services = request.app[services_key]
        state = await spec.check(services, request.match_info["token"], services.clock())
        if state is not LinkState.READY:
            return _refusal(spec, state)
        return _html(200, _page(spec.title, [spec.explain], spec.button))

    async def use(request: web.Request) -> web.Response:
        services = request.app[services_key]
        state, opened = await spec.use(services, request.match_info["token"], services.clock())
        if state is not LinkState.READY or opened is None:
            return _refusal(spec, state)
        return web.Response(
            body=spec.render(opened),
            content_type=spec.content_type,
            charset="utf-8",
            headers={**NO_STORE, **spec.result_headers},
        )

    app.router.add_get(spec.path + "{token}", show)
    app.router.add_post(spec.path + "{token}", use)


_WHEN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LABELS = {
    "aad_object_id": "Your Microsoft account id",
    "upn": "Your sign-in name",
    "aad_group_id": "Group id",
    "id": "Chat id",
    "check_ins": "Your check-ins",
    "check_in_choice": "Your choice about check-ins",
    "you": "How I reach you",
    "wellbeing_wednesday": "Wellbeing Wednesday",
}
"""Keys whose words would puzzle a person; every other key reads as it is written."""
FIRST = ("check_ins", "check_in_choice")
"""What a person looks for first; the rest follows in the document's order."""


def _label(key: str) -> str:
    """A document's key as a person reads it: `affecting_you_most` is "Affecting you most"."""
    words = LABELS.get(key) or key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value(value: Any) -> str:
    """Any part of a document as HTML a person can read: nothing is left out or renamed."""
    if value is None or value == [] or value == {}:
        return "<em>none</em>"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and _WHEN.match(value):
        moment = datetime.fromisoformat(value)
        return html.escape(f"{moment:%-d %B %Y, %H:%M} {moment:%Z}".strip())
    if isinstance(value, str) and _DAY.match(value):
        return html.escape(f"{date.fromisoformat(value):%A %-d %B %Y}")
    if isinstance(value, dict):
        rows = "".join(
            f"<dt>{html.escape(_label(str(k)))}</dt><dd>{_value(v)}</dd>" for k, v in value.items()
        )
        return f"<dl>{rows}</dl>"
    if isinstance(value, list):
        return "<ol>" + "".join(f"<li>{_value(item)}</li>" for item in value) + "</ol>"
    return html.escape(str(value))


def readable_export(document: dict[str, Any]) -> bytes:
    """A person's export as a page they can read on a phone, with the same data as a JSON file
    to save for other programs (one use of the link gives both)."""
    data = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    download = (
        '<p><a class="button" download="my-wellbeing-data.json" '
        f'href="data:application/json;base64,{base64.b64encode(data).decode("ascii")}">'
        "Save a copy as a file</a></p>"
    )
    about = str(document.get("about", ""))
    keys = [k for k in FIRST if k in document] + [k for k in document if k not in FIRST]
    sections = "".join(
        f"<section><h2>{html.escape(_label(key))}</h2>{_value(document[key])}</section>"
        for key in keys
        if key != "about"
    )
    return _page("Your data", [about], extra=download + sections).encode("utf-8")


class RouteAccessLogger(AbstractAccessLogger):
    """aiohttp's access log, naming the route instead of the path: a path can hold a signed
    link's token (`/export/{token}`), and anyone who reads logs must not be able to open it."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        match_info = getattr(request, "match_info", None)
        resource = match_info.route.resource if match_info is not None else None
        route = resource.canonical if resource is not None else "(no route)"
        self.logger.info("%s %s %s %.3fs", request.method, route, response.status, time)


SERVER_OPTIONS = {"access_log_class": RouteAccessLogger}
"""What every server of the app runs with (`serve`, and the tests' servers)."""
