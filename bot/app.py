"""The app factory: wires aiohttp, the botbuilder adapter, the database and the router."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import edge
from bot.auth import (
    AuthUnavailable,
    RequestAuthenticator,
    Unauthorized,
    build_authentication,
    credentials_factory_for,
)
from bot.connector import ConnectorTransport
from bot.handler import WellbeingBot
from bot.pages import (
    PAGE_POLICY,
    SignedLinkPage,
    add_signed_link_routes,
    readable_export,
)
from bot.storage import DatabaseStorage
from core import db
from core.config.orgconfig import OrgConfig, load_org_config
from core.config.settings import Settings
from core.context import Services
from core.faq import store as faq_store
from core.logs import describe
from core.reporting import leadreport as core_leadreport
from core.store import leases
from core.store.models import utcnow
from dialogs import guidance, leadreport, rights, understanding
from dialogs.router import default_router
from dialogs.wiring import build_services, secrets_for
from scheduler.jobs import build_scheduler
from scheduler.sender import OutboxSender, SenderSettings, pacer_for
from signposting import crisis_model

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SERVICES = web.AppKey("services", Services)
ADAPTER = web.AppKey("adapter", CloudAdapter)
BOT = web.AppKey("bot", WellbeingBot)
AUTHENTICATOR = web.AppKey("authenticator", RequestAuthenticator)
DB_HEALTH = web.AppKey("db_health", dict)
SENDER = web.AppKey("sender", OutboxSender)
BUDGET_CONNECTIONS = 3
"""Connections a replica keeps for taking slots of the sending timetable."""


EXPORT_PAGE = SignedLinkPage(
    path=rights.EXPORT_PATH,
    title="Your data",
    explain="Everything I hold about you, to read here or save as a file. It includes your "
    "check-ins and private notes, so open it somewhere private. This link works once.",
    button="Show my data",
    ask_again="Say 'export my data' to the bot for a new one.",
    check=rights.export_link,
    use=rights.export_document,
    render=readable_export,
    result_headers={"Content-Security-Policy": PAGE_POLICY},
)
REPORT_PAGE = SignedLinkPage(
    path=core_leadreport.REPORT_PATH,
    title="Wellbeing report",
    explain="The organisation's wellbeing report for the month you asked for. This link works "
    "once, so keep the report open while you read it.",
    button="Open the report",
    ask_again="Say 'report' to the bot for a new one.",
    check=leadreport.report_link,
    use=leadreport.report_page,
    render=bytes,
    result_headers={
        "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    },
)


def _problem(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def messages(request: web.Request) -> web.Response:
    """POST /api/messages: check the body at the edge (bot/edge.py), authenticate, run the turn;
    clear 4xx codes for bad requests."""
    app = request.app
    if request.content_type != "application/json":
        return _problem(415, "expected Content-Type: application/json")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, f"body larger than {app[SETTINGS].max_body_bytes} bytes")
    try:
        payload = edge.read_body(body)
        edge.check(payload)
    except edge.BadActivity as error:
        log.info("refused a malformed activity: %s", error)
        return _problem(400, str(error))
    try:
        activity = Activity().deserialize(payload)
    # msrest raises several unrelated types for shapes it cannot read; all mean a bad request.
    except Exception:
        return _problem(400, "body is not a Bot Framework activity")
    try:
        auth = await app[AUTHENTICATOR].authenticate(
            activity, request.headers.get("Authorization", "")
        )
    except Unauthorized as error:
        log.info("refused an unauthenticated request: %s", error)
        return _problem(401, "unauthorized")
    except AuthUnavailable:
        return _problem(503, "cannot check credentials right now; retry")
    invoke_response = await app[ADAPTER].process_activity(auth, activity, app[BOT].on_turn)
    if invoke_response:
        return web.json_response(invoke_response.body, status=invoke_response.status)
    return web.Response(status=200)


async def healthz(_request: web.Request) -> web.Response:
    """Process up."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Database reachable; logs once when that changes, so an outage is one clear line each way."""
    health = request.app[DB_HEALTH]
    try:
        await db.ping(request.app[ENGINE])
    # Any failure to answer SELECT 1 means not ready; the reason names the kind, never data.
    except Exception as error:
        reason = f"database unreachable ({type(error).__name__})"
        if health.get("ok", True):
            log.error("readiness: %s", reason)
        health["ok"] = False
        return web.json_response({"status": "unavailable", "reason": reason}, status=503)
    if not health.get("ok", True):
        log.warning("readiness: database reachable again")
    health["ok"] = True
    return web.json_response({"status": "ready"})


async def _on_turn_error(context: TurnContext, error: Exception) -> None:
    """The one error handler: log what failed (never the message), then apologise if we can."""
    log.error("turn failed (activity type %s): %s", context.activity.type, describe(error))
    if context.activity.type not in ("message", "invoke"):
        return
    try:
        await context.send_activity(
            "Sorry, something went wrong on my side. Please try again in a moment."
        )
    # The apology goes the same way as the failed reply; if that is down too, the log says so.
    except Exception as apology_error:
        log.error("could not apologise either: %s", describe(apology_error))


async def _build_faq_index(services: Services) -> None:
    """Build the FAQ's index now; a failure is logged and the first question builds it."""
    try:
        await faq_store.knowledge(services.sessions, services.clock())
    except Exception as error:
        log.warning("could not build the FAQ index at start: %s", type(error).__name__)


def create_app(
    settings: Settings,
    *,
    org: OrgConfig | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    clock: Callable[[], datetime] = utcnow,
    auto_migrate: bool | None = None,
) -> web.Application:
    """Build the whole web app; nothing happens at import time."""
    org = org or load_org_config(settings.org_config)
    if org.support.crisis.model.enabled:
        # Read the crisis model now: a missing or damaged file stops the bot at start, not on
        # the message of someone who needs urgent help.
        crisis_model.shipped()
    # The managers' prompts and guides are data: a broken file stops the bot here, named.
    guidance.shipped()
    engine = db.create_engine(
        settings.database_url,
        connect_timeout=settings.database_timeout,
        statement_timeout=settings.database_statement_timeout,
    )
    sessions = db.session_factory(engine)
    credentials_factory = credentials_factory or credentials_factory_for(settings)
    # One pacer for the replica: its sender and its turns' replies take their slots from the
    # tenant's timetable in the database, which every replica shares. Its statements have a
    # few connections of their own, so a slot never waits behind turns for the pool (and one
    # round trip each: no ping before every take).
    budget_engine = db.create_engine(
        settings.database_url,
        connect_timeout=settings.database_timeout,
        statement_timeout=settings.database_statement_timeout,
        pool_size=BUDGET_CONNECTIONS,
        max_overflow=0,
        pre_ping=False,
    )
    sender_settings = SenderSettings(rate_per_second=settings.teams_rate_limit)
    pacer = pacer_for(db.session_factory(budget_engine), sender_settings)
    transport = ConnectorTransport(settings, credentials_factory, budget=pacer)
    secrets = secrets_for(settings)
    sender = OutboxSender(
        sessions, transport, sender_settings, clock=clock, pacer=pacer, secrets=secrets
    )
    services = build_services(
        settings,
        org,
        engine,
        clock=clock,
        secrets=secrets,
        wake_sender=sender.wake,
        list_members=transport.list_members,
    )
    # The intent model is checked against the command table now: one fitted on other commands
    # or examples stops the bot at start with the command that refits it, not on a message.
    understanding.understanding_for(services.commands)
    adapter = CloudAdapter(build_authentication(settings, credentials_factory))
    adapter.on_turn_error = _on_turn_error
    bot = WellbeingBot(
        services,
        default_router(),
        DatabaseStorage(sessions, services.clock),
        transport,
        turn_timeout=settings.turn_timeout,
    )

    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[ENGINE] = engine
    app[SERVICES] = services
    app[ADAPTER] = adapter
    app[BOT] = bot
    # The SDK checks tokens and ages its key cache on its own clock (naive local wall time),
    # whatever clock the app runs on: the key cache is kept on that clock.
    app[AUTHENTICATOR] = RequestAuthenticator(
        settings, adapter.bot_framework_authentication, sdk_clock=datetime.now
    )
    app[DB_HEALTH] = {}
    app[SENDER] = sender
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    add_signed_link_routes(app, EXPORT_PAGE, SERVICES)
    add_signed_link_routes(app, REPORT_PAGE, SERVICES)

    migrate = db.is_sqlite(settings.database_url) if auto_migrate is None else auto_migrate

    async def database(_app: web.Application) -> AsyncIterator[None]:
        """Migrate or check the schema first; close the pool last."""
        if migrate:
            await db.migrate(engine)
        elif not await db.schema_is_current(engine):
            raise RuntimeError(
                "the database schema is out of date: run `wellbeing-bot migrate` first"
            )
        yield
        await budget_engine.dispose()
        await engine.dispose()

    async def connector(_app: web.Application) -> AsyncIterator[None]:
        """The Bot Connector client's connection pool."""
        await transport.start()
        yield
        await transport.close()

    async def sending(_app: web.Application) -> AsyncIterator[None]:
        """The outbox sender, drained on the way out."""
        task = asyncio.create_task(sender.run(), name="outbox-sender")
        yield
        await sender.stop()
        await task

    async def scheduling(_app: web.Application) -> AsyncIterator[None]:
        """The scheduled jobs; the leader gives its lease up as it stops."""
        scheduler = build_scheduler(services, settings.tick_seconds, holder=sender.worker)
        if settings.scheduler_enabled:
            scheduler.start()
        yield
        if scheduler.running:
            scheduler.shutdown(wait=False)
            try:
                async with sessions() as session:
                    await leases.release(session, leases.LEADER, sender.worker)
            # The database is away as we stop: the lease expires by itself instead.
            except Exception as error:
                log.warning("could not give up the leader lease: %s", type(error).__name__)

    async def faq_index(_app: web.Application) -> AsyncIterator[None]:
        """The HR FAQ's index, built in the background as the bot starts: on a fresh database
        every entry's texts are encoded first, seconds of work a question must not wait for.
        Awaited on the way out, not cancelled: it may be inside a database statement."""
        task = (
            asyncio.create_task(_build_faq_index(services), name="faq-index")
            if settings.faq_warm_start
            else None
        )
        yield
        if task is not None:
            await task

    # One cleanup context per resource: each starts after the ones it needs and stops before.
    app.cleanup_ctx.extend([database, connector, sending, scheduling, faq_index])
    return app
