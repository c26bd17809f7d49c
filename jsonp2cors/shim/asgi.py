"""ASGI adapter for the shim: moves a scope's facts into `core` and the response through its plan.

Pure ASGI middleware: `ASGIShim(app, policy=...)` or `starlette_app.add_middleware(ASGIShim, policy=...)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

from jsonp2cors.shim.core import (
    BYTES_NAMES,
    FACT_HEADERS_BYTES,
    MAX_ACRH,
    MAX_BODY,
    PEEK,
    SEND,
    Clock,
    Forward,
    Headers,
    RequestFacts,
    Respond,
    ResponsePlan,
    RouteRules,
    ShimCore,
    jsonp_callback,
    jsonp_fast_body,
    jsonp_fast_head,
    jsonp_headers,
    pass_headers,
    wrap_jsonp,
    wrappable_json,
)

if TYPE_CHECKING:
    from jsonp2cors.policy import Policy

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Extensions that would let the app hand the server a file we then could not wrap.
_FILE_EXTENSIONS = ("http.response.pathsend", "http.response.zerocopy")


def _file_response(scope: Scope) -> bool:
    extensions = scope.get("extensions")
    return extensions is not None and (_FILE_EXTENSIONS[0] in extensions or _FILE_EXTENSIONS[1] in extensions)


class ASGIShim:
    """Hardened JSONP and policy-driven CORS in front of any ASGI app.

    Errors: if the app raises before it has started its response, the shim sends a 500 that carries the
    CORS headers (so the browser shows the error, not a CORS failure) and re-raises, so the server still
    logs the exception; the same as Starlette's ServerErrorMiddleware does without the CORS headers.
    """

    def __init__(self, app: ASGIApp, policy: Policy, *, usage: Any = None, clock: Clock | None = None,
                 max_body: int = MAX_BODY, max_acrh: int = MAX_ACRH, unwrap_legacy: bool = True,
                 no_jsonp: Iterable[str] = ()) -> None:
        self.app = app
        self.core = ShimCore(policy, usage=usage, clock=clock, max_body=max_body, max_acrh=max_acrh,
                             unwrap_legacy=unwrap_legacy, no_jsonp=no_jsonp)

    def close(self) -> None:
        """Write the usage records still queued and stop the writer (also done at interpreter exit)."""
        self.core.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path")
        if root and not path.startswith(root):
            path = root + path
        method = scope["method"]
        query = scope.get("query_string", b"")
        core = self.core
        look = core.needs_look(query)
        if method != "OPTIONS" and not look:
            # The common case, no callback and no preflight: only Origin and Sec-Fetch-Dest matter, and the
            # response head is rewritten once on its way out (inline: this runs for nearly every request).
            origin = dest = None
            lines = 0
            for name, value in scope["headers"]:
                if name == b"origin":
                    lines += 1
                    origin = value.decode("latin-1")
                elif name == b"sec-fetch-dest":
                    dest = value.decode("latin-1")
            rules = core.rules_for(path)
            extra, vary = rules.cors_parts(origin) if lines < 2 else ((), rules.vary_value)
            passer = _Pass(core, send, rules, extra, vary, dest, method, path, query, origin, lines)
            try:
                await self.app(scope, receive, passer)
            except Exception:
                if not passer.started:
                    await _send_response(send, ShimCore.error_response_parts(extra, vary, method))
                raise
            escalated = passer.reply
            if escalated is not None and escalated.state >= PEEKING and escalated.start is not None:
                await escalated.flush_unchanged(final=True)
            return
        if method == "GET" and not core.no_jsonp:
            rules = core.rules_for(path)
            found = jsonp_callback(core, rules, query)
            if found is not None and not _file_response(scope):
                fast = _FastJSONP(core, rules, send, path, query, found, scope["headers"])
                try:
                    await self.app(scope, receive, fast)
                except Exception:
                    if not fast.sent_start:
                        await _send_response(send, self.core.error_response(fast.forward()))
                    raise
                if not fast.done and fast.state >= PEEKING:
                    await fast.flush_unchanged(final=True)
                return
        facts = _all_facts(method, path, query, scope["headers"])
        decision = core.decide(facts, look)
        if isinstance(decision, Respond):
            await _send_response(send, decision)
            return
        fwd = decision
        if fwd.callback is not None:
            extensions: dict[str, Any] = scope.get("extensions") or {}
            strip = _FILE_EXTENSIONS[0] in extensions or _FILE_EXTENSIONS[1] in extensions
            if strip or fwd.method != scope["method"]:
                scope = dict(scope)
                scope["method"] = fwd.method
                if strip:
                    scope["extensions"] = {k: v for k, v in extensions.items() if k not in _FILE_EXTENSIONS}
        reply: _Reply | _JSONPReply
        if fwd.callback is not None:
            reply = _JSONPReply(send, fwd, self.core.max_body)
        else:
            reply = _Reply(send, fwd.plan(), self.core.max_body, fwd.method != fwd.facts.method)
        try:
            await self.app(scope, receive, reply)
        except Exception:
            if not reply.sent_start:
                await _send_response(send, self.core.error_response(fwd))
            raise
        if reply.state >= PEEKING and reply.start is not None:
            # The app returned without finishing its body; send what it gave us, unchanged.
            await reply.flush_unchanged(final=True)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Write the pending usage records when the server shuts down: uvicorn re-raises SIGTERM after a
        # graceful shutdown, so atexit handlers do not run there.
        core = self.core

        async def send_wrapper(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                core.flush()
            await send(message)

        await self.app(scope, receive, send_wrapper)

class _Pass:
    """The `send` the app sees on the fast path: one look at the head, then bytes pass straight through.

    Only a script or text body that may be legacy padding hands over to the full `_Reply` machinery.
    """

    __slots__ = ("core", "dest", "extra", "lines", "method", "origin", "passing", "path", "query", "reply", "rules",
                 "send", "started", "vary")

    def __init__(self, core: ShimCore, send: Send, rules: RouteRules, extra: tuple[tuple[bytes, bytes], ...],
                 vary: bytes | None, dest: str | None, method: str, path: str, query: bytes,
                 origin: str | None, lines: int) -> None:
        self.core = core
        self.send = send
        self.rules = rules
        self.extra = extra
        self.vary = vary
        self.dest = dest
        self.method = method
        self.path = path
        self.query = query
        self.origin = origin
        self.lines = lines
        self.passing = False
        self.started = False
        self.reply: _Reply | None = None

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
            return
        reply = self.reply
        if reply is not None:
            await reply(message)
            self.started = reply.sent_start
            return
        if message["type"] == "http.response.start":
            core = self.core
            headers = pass_headers(BYTES_NAMES, message.get("headers", ()), self.extra, self.vary,
                                   unwrap=core.unwrap_legacy, status=message["status"], method=self.method,
                                   dest=self.dest)
            if headers is None:  # maybe legacy padding: the full plan looks at the body
                cors = self.extra + (((b"vary", self.vary),) if self.vary is not None else ())
                facts = RequestFacts(self.method, self.path, self.query, self.origin, self.lines, self.dest)
                fwd = Forward(core, self.rules, facts, cors)
                self.reply = reply = _Reply(self.send, fwd.plan(), core.max_body, False)
                await reply(message)
                return
            message["headers"] = headers
            self.passing = self.started = True
        await self.send(message)


class _JSONPSend:
    """The `send` for a JSONP request: a single-message JSON body is wrapped on the spot; anything else
    (streams, compression, other types, legacy padding, oversized) is replayed into the general `_Reply`.

    Subclasses say where the request's `Forward` comes from and how the wrapped head is made and recorded.
    """

    __slots__ = ("app_vary", "base", "done", "max_body", "reply", "send", "start", "status")

    def __init__(self, send: Send, max_body: int) -> None:
        self.send = send
        self.max_body = max_body
        self.reply: _Reply | None = None
        self.start: Message | None = None
        self.base: Headers | None = None
        self.app_vary: bytes | None = None
        self.status = 200
        self.done = False  # the fast step answered

    def forward(self) -> Forward:
        raise NotImplementedError

    def _wrapped(self, base: Headers, body: bytes) -> tuple[Headers, bytes]:
        """(head, body to send) for a body that `wrappable_json` accepted; records the usage."""
        raise NotImplementedError

    @property
    def sent_start(self) -> bool:
        return self.done or (self.reply is not None and self.reply.sent_start)

    @property
    def state(self) -> int:
        if self.done:
            return PASSING
        return self.reply.state if self.reply is not None else BEFORE

    async def flush_unchanged(self, *, final: bool = False) -> None:
        if self.reply is None:
            await self._general()
        assert self.reply is not None
        await self.reply.flush_unchanged(final=final)

    async def _general(self, message: Message | None = None) -> None:
        fwd = self.forward()
        self.reply = reply = _Reply(self.send, fwd.plan(), self.max_body, fwd.method != fwd.facts.method)
        if self.start is not None:
            await reply(self.start)
        if message is not None:
            await reply(message)

    def __call__(self, message: Message) -> Awaitable[None]:
        # Not a coroutine function: the head of a plain JSON response is only kept (nothing to await), which
        # spares a coroutine per request on the path every JSONP request takes.
        if self.reply is None and not self.done and self.start is None and message["type"] == "http.response.start":
            self.start = message
            self.status = message["status"]
            fast = jsonp_fast_head(self.status, message.get("headers", ()))
            if fast is not None:
                self.base, self.app_vary = fast
                return _READY
            return self._general()
        return self._message(message)

    async def _message(self, message: Message) -> None:
        reply = self.reply
        if reply is not None:
            await reply(message)
            return
        if self.done:
            return  # nothing may follow the final body
        base = self.base
        if message["type"] == "http.response.body" and base is not None and not message.get("more_body", False):
            body: bytes = message.get("body", b"")
            if wrappable_json(body, self.max_body):
                headers, out = self._wrapped(base, body)
                start = self.start
                assert start is not None
                start["headers"] = headers
                self.done = True
                await self.send(start)
                message["body"] = out  # the app's message, reused
                await self.send(message)
                return
        await self._general(message)


class _JSONPReply(_JSONPSend):
    """The JSONP `send` of the general path (HEAD, Referer checks, a `Forward` already made by `decide()`)."""

    __slots__ = ("fwd",)

    def __init__(self, send: Send, fwd: Forward, max_body: int) -> None:
        super().__init__(send, max_body)
        self.fwd = fwd

    def forward(self) -> Forward:
        return self.fwd

    def _wrapped(self, base: Headers, body: bytes) -> tuple[Headers, bytes]:
        fwd = self.fwd
        wrapped = jsonp_fast_body(fwd, self.status, base, self.app_vary, body)
        assert wrapped is not None  # the body was checked with wrappable_json
        headers, out = wrapped
        return headers, b"" if fwd.method != fwd.facts.method else out  # a HEAD served as GET sends no body


# _Reply states
BEFORE, PASSING, PEEKING, BUFFERING = 0, 1, 2, 3


class _Reply:
    """The `send` the app sees for one request: applies the plan to the head, buffers when it must."""

    __slots__ = ("chunks", "drop_body", "max_body", "plan", "send", "sent_start", "size", "start", "state")

    def __init__(self, send: Send, plan: ResponsePlan, max_body: int, drop_body: bool) -> None:
        self.send = send
        self.plan = plan
        self.max_body = max_body
        self.drop_body = drop_body  # a HEAD the app served as GET: the body is not sent
        self.state = BEFORE
        self.start: Message | None = None
        self.chunks: list[bytes] = []
        self.size = 0
        self.sent_start = False

    async def __call__(self, message: Message) -> None:
        state = self.state
        kind = message["type"]
        if state == PASSING:
            if self.drop_body and kind == "http.response.body":
                if not message.get("more_body", False):
                    await self.send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await self.send(message)
            return
        if kind == "http.response.start":
            self.start = message
            action = self.plan.start(message["status"], message.get("headers", ()))
            if action == SEND:
                self.state = PASSING
                await self.send_start(self.plan.headers)
            else:
                self.state = PEEKING if action == PEEK else BUFFERING
            return
        if kind != "http.response.body":  # trailers, pathsend...: stop looking, pass everything on
            if state >= PEEKING:
                await self.flush_unchanged()
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if state == PEEKING:
            if not body and more:
                return
            if self.plan.peek(body) == SEND:
                self.state = PASSING
                await self.send_start(self.plan.headers)
                await self.send(message)
                return
            self.state = BUFFERING
        chunks = self.chunks
        if body:
            chunks.append(body)
            self.size += len(body)
        if self.size > self.max_body:
            headers = self.plan.overflow()
            self.state = PASSING
            await self.send_start(headers)
            await self.send({"type": "http.response.body", "body": b"".join(chunks), "more_body": more})
            chunks.clear()
            return
        if more:
            return
        headers, out = self.plan.finish(b"".join(chunks))
        chunks.clear()
        self.state = PASSING
        await self.send_start(headers)
        await self.send({"type": "http.response.body", "body": b"" if self.drop_body else out,
                         "more_body": False})

    async def send_start(self, headers: Headers) -> None:
        message = self.start
        assert message is not None
        message["headers"] = headers  # as Starlette's own middlewares do, the app's message is updated
        self.sent_start = True
        await self.send(message)

    async def flush_unchanged(self, *, final: bool = False) -> None:
        await self.send_start(self.plan.headers)
        self.state = PASSING
        if self.chunks or final:
            await self.send({"type": "http.response.body", "body": b"".join(self.chunks),
                             "more_body": not final})
            self.chunks.clear()


# Request headers the JSONP fast path keeps (for the usage record and the CORS answer).
_FAST_HEADERS: dict[bytes, int] = {b"origin": 0, b"referer": 1, b"sec-fetch-site": 2, b"sec-fetch-dest": 3,
                                   b"user-agent": 4}


class _Ready:
    """An awaitable that is already done (awaiting it returns None at once, without a coroutine)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return cast("Generator[Any, None, None]", iter(()))  # any iterator will do; an empty one is done


_READY = _Ready()


class _FastJSONP(_JSONPSend):
    """The JSONP `send` of the fast path: the request was looked at only as far as the wrap and the usage
    record need; `forward()` makes the general path's `Forward` when something unusual turns up."""

    __slots__ = ("callback", "core", "cors", "headers", "now", "param", "path", "query", "rules", "seen")

    def __init__(self, core: ShimCore, rules: RouteRules, send: Send, path: str, query: bytes,
                 found: tuple[bytes, bytes, float], headers: Any) -> None:
        super().__init__(send, core.max_body)
        self.core = core
        self.rules = rules
        self.path = path
        self.query = query
        self.headers = headers
        self.param, self.callback, self.now = found
        seen: list[bytes | None] = [None, None, None, None, None]
        origins = 0
        wanted = _FAST_HEADERS
        for name, raw in headers:
            slot = wanted.get(name)
            if slot is not None:
                seen[slot] = raw
                if slot == 0:
                    origins += 1
        self.seen = seen
        origin = seen[0].decode("latin-1") if origins == 1 and seen[0] is not None else None
        self.cors = rules.vary_only if origins > 1 else rules.cors_headers(origin)

    def forward(self) -> Forward:
        facts = _all_facts("GET", self.path, self.query, self.headers)
        return Forward(self.core, self.rules, facts, self.cors, self.callback, self.rules.param_names[self.param])

    def _wrapped(self, base: Headers, body: bytes) -> tuple[Headers, bytes]:
        out = wrap_jsonp(self.callback, body.strip(b" \t\r\n"))
        headers = jsonp_headers(self.rules, self.cors, base, self.app_vary, len(out))
        sink = self.core.sink
        if sink is not None:
            seen = self.seen  # header values stay bytes: the sink decodes them off the request path
            sink.emit_fields((self.now, "GET", self.path, self.rules.param_names[self.param], self.callback,
                              seen[1], seen[2], seen[3], seen[4], self.status))
        return headers, out


def _all_facts(method: str, path: str, query: bytes, headers: Any) -> RequestFacts:
    """Every header the core may look at (preflights and JSONP requests)."""
    facts = RequestFacts(method, path, query, None, 0)
    acrh: list[str] | None = None
    wanted = FACT_HEADERS_BYTES
    for name, value in headers:
        attr = wanted.get(name)
        if attr is None:
            continue
        if attr == "origin":
            facts.origin_lines += 1
            facts.origin = value.decode("latin-1")
        elif attr == "acrh":
            if acrh is None:
                acrh = []
            acrh.append(value.decode("latin-1"))
        else:
            facts.__dict__[attr] = value.decode("latin-1")
    if acrh is not None:
        facts.acrh = ",".join(acrh)
    return facts


async def _send_response(send: Send, response: Respond) -> None:
    await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


__all__ = ["ASGIShim"]
