"""The HTTP API of ``leadscore serve`` (FastAPI): docs/serving.md is its reference.

- ``POST /score``: ``{"lead": {...}, "activities": [...], "as_of": optional}`` → the lead_scores
  fields, the reasons and the feature values the model used. Stores nothing.
- ``POST /events``: ``{"events": [...], "as_of": optional}`` → the re-scored leads and the
  alerts of leads that became hot; the events are logged for the next build.
- ``GET /leads/{lead_id}?as_of=``: a lead of the state, with the events received since the build.
- ``GET /health``, ``GET /model``, ``POST /reload`` (the file watch also swaps in a new bundle
  within a second of the build exporting it).

Validation (pydantic) answers 422 naming each bad field and what it expects, without echoing
the value; a bearer token (LEADSCORE_SERVE_TOKEN) guards the mutating endpoints when set;
bodies over MAX_BODY_BYTES get 413; an unexpected error is a 500 without a stack trace (the
server log has it, never a request body). Timestamps: ISO 8601; without an offset they are
UTC; with one they are converted to UTC. as_of defaults to the time of the request.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from leadscore.serve.config import MAX_ACTIVITIES_PER_SCORE, MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST
from leadscore.serve.events_log import utc_now
from leadscore.serve.live import LiveState, UnknownLead

LOG = logging.getLogger("leadscore.serve")
# text constraints run in pydantic's core (no Python validator per field: a batch of events
# is validated at C speed); surrounding spaces are stripped, a blank id is a 422
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
ActivityType = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


def _utc(value: datetime) -> datetime:
    """A naive UTC timestamp (the warehouse's TIMESTAMP) of an aware or naive one."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew between a webhook's sender and us


def _not_in_future(value: datetime) -> datetime:
    """An activity from the future is a 422, as staging quarantines it (future_timestamp);
    a few minutes of clock skew are allowed."""
    if _utc(value) > utc_now() + FUTURE_TOLERANCE:
        raise ValueError("must not be in the future (UTC, 5 minutes of clock skew allowed)")
    return value


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activity_id: Id
    activity_type: ActivityType
    occurred_at: Annotated[datetime, AfterValidator(_not_in_future)]

    def plain(self) -> dict[str, Any]:
        """As the state takes it: occurred_at as naive UTC."""
        return {"activity_id": self.activity_id, "activity_type": self.activity_type,
                "occurred_at": _utc(self.occurred_at)}  # fmt: skip


class Event(Activity):
    lead_id: Id

    def plain(self) -> dict[str, Any]:
        return {**super().plain(), "lead_id": self.lead_id}


class Lead(BaseModel):
    """The source contract's lead columns and custom attributes (extra keys); LeadEnricher
    checks the rest and names a bad field."""

    model_config = ConfigDict(extra="allow")

    lead_id: Id
    created_at: datetime


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead: Lead
    activities: list[Activity] = Field(default_factory=list, max_length=MAX_ACTIVITIES_PER_SCORE)
    as_of: datetime | None = None


class EventsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Event] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)
    as_of: datetime | None = None


def _json(content: Any, status: int = 200) -> Response:
    body = json.dumps(content, default=_encode, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _invalid_response(errors: list[Any], prefix: tuple[str, ...]) -> Response:
    """A 422 listing each problem's place and what is expected, never the value given."""
    detail = [
        {"loc": [*prefix, *e.get("loc", ())], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in errors
    ]
    return _json({"detail": detail}, 422)


async def _parsed(request: Request, model: type[BaseModel]) -> tuple[Any, Response | None]:
    """The body validated by ``model`` straight from its JSON (pydantic's core parses and
    validates in one pass: FastAPI's own body handling cost a millisecond per /score), or
    the 422 answer."""
    try:
        return model.model_validate_json(await request.body()), None
    except ValidationError as exc:
        return None, _invalid_response(exc.errors(include_input=False), ("body",))


def _error(loc: list[Any], msg: str, kind: str = "value_error", status: int = 422) -> Response:
    return _json({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, status)


def _as_of(value: datetime | None) -> datetime:
    return _utc(value) if value is not None else utc_now()


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes (declared or streamed) is a 413."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit} bytes; send fewer events"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def _guarded(endpoint: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """An endpoint whose unexpected error is a 500 without details. Handled here, not by an
    exception handler: Starlette re-raises after those, and the server would log the
    exception's message, which may quote a request's values. The log gets the type and the
    stack only."""

    @functools.wraps(endpoint)
    async def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            return await endpoint(*args, **kwargs)
        except Exception as exc:
            stack = "".join(traceback.format_tb(exc.__traceback__))
            LOG.error("%s failed with %s at\n%s", endpoint.__name__, type(exc).__name__, stack)
            return _json({"detail": "internal error; the server log has the details"}, 500)

    return guarded


def create_app(export_dir: Path, token: str = "") -> FastAPI:
    """The app serving the bundle under export_dir (loaded now: a missing or unreadable bundle
    raises BundleError before the server starts)."""
    live = LiveState(export_dir)
    app = FastAPI(title="leadscore", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.live = live

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        if not token:
            return
        expected = f"Bearer {token}"
        if authorization is None or not secrets.compare_digest(authorization, expected):
            raise _Unauthorised

    @app.exception_handler(_Unauthorised)
    async def _unauthorised(request: Request, exc: Exception) -> Response:
        response = _json({"detail": "missing or wrong bearer token (LEADSCORE_SERVE_TOKEN)"}, 401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _invalid_response(exc.errors(), ())

    @app.post("/score")
    @_guarded
    async def score(request: Request) -> Response:
        live.maybe_reload()
        body, invalid = await _parsed(request, ScoreRequest)
        if invalid is not None:
            return invalid
        as_of = _as_of(body.as_of)
        activities = [a.plain() for a in body.activities]
        try:
            answer = live.score(body.lead.model_dump(), activities, as_of)
        except ValueError as err:
            return _error(["body", "lead", *_field_of(err)], str(err))
        return _json(answer)

    @app.post("/events", dependencies=[Depends(authorised)])
    @_guarded
    async def events(request: Request) -> Response:
        live.maybe_reload()
        body, invalid = await _parsed(request, EventsRequest)
        if invalid is not None:
            return invalid
        result = live.apply_events([e.plain() for e in body.events], _as_of(body.as_of))
        return _json(result.__dict__)

    @app.get("/leads/{lead_id}")
    @_guarded
    async def lead(lead_id: str, as_of: datetime | None = None) -> Response:
        live.maybe_reload()
        try:
            return _json(live.current(lead_id, _as_of(as_of)))
        except UnknownLead:
            return _json(
                {
                    "detail": "lead_id not in the serving state (not open at the "
                    "build's as_of, or created since: POST /score it)"
                },
                404,
            )

    @app.get("/health")
    @_guarded
    async def health() -> Response:
        live.maybe_reload()
        bundle = live.bundle
        return _json({
            "status": "ok",
            "bundle": bundle.version,
            "as_of": bundle.as_of,
            "loaded_at": live.loaded_at,
            "n_leads": bundle.leads.num_rows,
            "n_received_events": sum(len(v) for v in bundle.overlay.values()),
            "last_reload_error": live.last_reload_error,
        })  # fmt: skip

    @app.get("/model")
    @_guarded
    async def model() -> Response:
        live.maybe_reload()
        bundle = live.bundle
        meta = bundle.model
        return _json({
            "model_version": meta["model_version"], "model_type": meta["model_type"],
            "trained_at": meta["trained_at"], "data_as_of": meta["data_as_of"],
            "as_of": bundle.as_of, "bundle": bundle.version, "note": meta["note"],
            "features": bundle.model_features,
        })  # fmt: skip

    @app.post("/reload", dependencies=[Depends(authorised)])
    @_guarded
    async def reload() -> Response:
        try:
            swapped = live.reload()
        except Exception:
            return _json({"detail": f"the new bundle did not load: {live.last_reload_error}"}, 409)
        return _json({"reloaded": swapped, "bundle": live.bundle.version})

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    return app


class _Unauthorised(Exception):
    pass


def _field_of(err: ValueError) -> list[str]:
    """The lead field a LeadEnricher error names ("<field>: expected ..."), if any."""
    name, sep, _ = str(err).partition(":")
    return [name] if sep and name.isidentifier() else []
