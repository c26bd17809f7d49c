"""ASGI adapter for the shim: moves a scope's facts into `core` and the response through its plan.

Pure ASGI middleware: `ASGIShim(app, policy=...)` or `starlette_app.add_middleware(ASGIShim, policy=...)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from jsonp2cors.shim.core import (
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
    ShimCore,
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
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path")
        if root and not path.startswith(root):
            path = root + path
        facts = RequestFacts(scope["method"], path, scope.get("query_string", b""))
        acrh: list[str] | None = None
        wanted = FACT_HEADERS_BYTES
        for name, value in scope["headers"]:
            attr = wanted.get(name)
            if attr is None:
                continue
            text = value.decode("latin-1")
            if attr == "origin":
                facts.origin_lines += 1
                facts.origin = text
            elif attr == "acrh":
                if acrh is None:
                    acrh = []
                acrh.append(text)
            else:
                setattr(facts, attr, text)
        if acrh is not None:
            facts.acrh = ",".join(acrh)

        decision = self.core.decide(facts)
        if isinstance(decision, Respond):
            await _send_response(send, decision)
            return
        await self._forward(scope, receive, send, decision)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, fwd: Forward) -> None:
        plan = fwd.plan()
        if fwd.callback is not None:
            scope = dict(scope)
            scope["method"] = fwd.method
            extensions = scope.get("extensions")
            if extensions and any(e in extensions for e in _FILE_EXTENSIONS):
                scope["extensions"] = {k: v for k, v in extensions.items() if k not in _FILE_EXTENSIONS}
        drop_body = fwd.method != fwd.facts.method  # a HEAD served by the app as GET
        max_body = self.core.max_body
        # state: 0 = before start, 1 = passing through, 2 = peeking, 3 = buffering
        state = 0
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        sent_start = False

        async def send_start(headers: Headers) -> None:
            nonlocal sent_start
            assert start is not None
            message = dict(start)
            message["headers"] = headers
            sent_start = True
            await send(message)

        async def wrapped(message: Message) -> None:
            nonlocal state, start, size
            kind = message["type"]
            if state == 1:
                if drop_body and kind == "http.response.body":
                    if not message.get("more_body", False):
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                await send(message)
                return
            if kind == "http.response.start":
                start = message
                action = plan.start(message["status"], message.get("headers", ()))
                if action == SEND:
                    state = 1
                    await send_start(plan.headers)
                else:
                    state = 2 if action == PEEK else 3
                return
            if kind != "http.response.body":  # trailers, pathsend...: stop looking, pass everything on
                if state in (2, 3):
                    await self._flush_unchanged(send_start, send, plan, chunks)
                    state = 1
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more = message.get("more_body", False)
            if state == 2:
                if not body and more:
                    return
                if plan.peek(body) == SEND:
                    state = 1
                    await send_start(plan.headers)
                    await send(message)
                    return
                state = 3
            if body:
                chunks.append(body)
                size += len(body)
            if size > max_body:
                headers = plan.overflow()
                state = 1
                await send_start(headers)
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": more})
                chunks.clear()
                return
            if more:
                return
            headers, out = plan.finish(b"".join(chunks))
            chunks.clear()
            state = 1
            await send_start(headers)
            await send({"type": "http.response.body", "body": b"" if drop_body else out, "more_body": False})

        try:
            await self.app(scope, receive, wrapped)
        except Exception:
            if not sent_start:
                await _send_response(send, self.core.error_response(fwd))
            raise
        if state in (2, 3) and start is not None:
            # The app returned without finishing its body; send what it gave us, unchanged.
            await self._flush_unchanged(send_start, send, plan, chunks, final=True)

    @staticmethod
    async def _flush_unchanged(send_start: Callable[[Headers], Awaitable[None]], send: Send,
                               plan: ResponsePlan, chunks: list[bytes], *, final: bool = False) -> None:
        await send_start(plan.headers)
        if chunks or final:
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": not final})
            chunks.clear()


async def _send_response(send: Send, response: Respond) -> None:
    await send({"type": "http.response.start", "status": response.status, "headers": response.headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


__all__ = ["ASGIShim"]
