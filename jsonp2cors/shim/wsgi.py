"""WSGI (PEP 3333) adapter for the shim: Flask, Django, Bottle, Pyramid, any WSGI app.

`flask_app.wsgi_app = WSGIShim(flask_app.wsgi_app, policy=policy)`; Django: wrap `application` in wsgi.py.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jsonp2cors.shim.core import (
    BUFFER,
    MAX_ACRH,
    MAX_BODY,
    PEEK,
    SEND,
    STR_NAMES,
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

log = logging.getLogger("jsonp2cors.shim")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StrHeaders = list[tuple[str, str]]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 410: "Gone",
            500: "Internal Server Error"}


def _status_line(code: int) -> str:
    return f"{code} {_REASONS.get(code, 'Unknown')}"


def _to_str(headers: Headers) -> StrHeaders:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]


class WSGIShim:
    """Hardened JSONP and policy-driven CORS in front of a WSGI app.

    Errors: if the app raises before it has started its response, the exception is logged (logger
    `jsonp2cors.shim`) and a 500 carrying the CORS headers is returned, so the browser shows the error
    rather than a CORS failure. Errors after the headers went out propagate to the server as usual.
    """

    def __init__(self, app: WSGIApp, policy: Policy, *, usage: Any = None, clock: Clock | None = None,
                 max_body: int = MAX_BODY, max_acrh: int = MAX_ACRH, unwrap_legacy: bool = True,
                 no_jsonp: Iterable[str] = ()) -> None:
        self.app = app
        self.core = ShimCore(policy, usage=usage, clock=clock, max_body=max_body, max_acrh=max_acrh,
                             unwrap_legacy=unwrap_legacy, no_jsonp=no_jsonp)

    def close(self) -> None:
        """Write the usage records still queued and stop the writer (also done at interpreter exit)."""
        self.core.close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if not path.isascii():  # PEP 3333 hands us latin-1-decoded bytes
            path = path.encode("latin-1").decode("utf-8", "replace")
        get = environ.get
        method = environ["REQUEST_METHOD"]
        query = get("QUERY_STRING", "").encode("latin-1")
        origin = get("HTTP_ORIGIN")
        dest = get("HTTP_SEC_FETCH_DEST")
        core = self.core
        look = core.needs_look(query)
        path = path or "/"
        if method != "OPTIONS" and not look:
            return self._pass(environ, start_response, method, path, query, origin, dest)
        if method == "GET" and not core.no_jsonp:
            rules = core.rules_for(path)
            fast = _FastJSONP.make(self, rules, environ, start_response, path, query, origin)
            if fast is not None:
                return fast.run()
        decision = core.decide(_all_facts(environ, method, path, query, origin), look)
        if isinstance(decision, Respond):
            start_response(_status_line(decision.status), _to_str(decision.headers))
            return [decision.body]
        return _Exchange(self, decision, environ, start_response).run()

    def _pass(self, environ: dict[str, Any], start_response: StartResponse, method: str, path: str,
              query: bytes, origin: str | None, dest: str | None) -> Iterable[bytes]:
        """The common case, no callback and no preflight: one look at the head, the body passes untouched."""
        rules = self.core.rules_for(path)
        fast = _Pass(self, environ, start_response, rules, RequestFacts(method, path, query, origin, None, dest))
        try:
            result = self.app(environ, fast.start_response)
        except Exception as exc:
            if fast.exchange is not None:
                return fast.exchange._error(exc)
            if fast.sent:
                raise
            log.error("jsonp2cors: the application raised before responding; answering 500", exc_info=exc)
            extra, vary = rules.cors_parts(origin)
            response = ShimCore.error_response_parts(extra, vary, method)
            start_response(_status_line(500), _to_str(response.headers), sys.exc_info())
            return [response.body]
        if fast.sent and fast.exchange is None:
            return result
        return fast.escalate()._continue(result)  # padding to look at, or start_response still to come


def _all_facts(environ: dict[str, Any], method: str, path: str, query: bytes, origin: str | None) -> RequestFacts:
    """Every header the core may look at (preflights and JSONP requests), from the environ."""
    get = environ.get
    facts = RequestFacts(method, path, query, origin, None, get("HTTP_SEC_FETCH_DEST"))
    facts.acrm = get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
    facts.acrh = get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
    facts.acrpn = get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK")
    facts.referer = get("HTTP_REFERER")
    facts.sec_fetch_site = get("HTTP_SEC_FETCH_SITE")
    facts.user_agent = get("HTTP_USER_AGENT")
    facts.host = get("HTTP_HOST")
    return facts


class _Pass:
    """start_response for the fast path; hands over to a full `_Exchange` when the body needs a look."""

    __slots__ = ("environ", "exchange", "extra", "facts", "real_start", "rules", "sent", "shim", "vary")

    def __init__(self, shim: WSGIShim, environ: dict[str, Any], start_response: StartResponse,
                 rules: RouteRules, facts: RequestFacts) -> None:
        self.shim = shim
        self.environ = environ
        self.real_start = start_response
        self.rules = rules
        self.facts = facts
        # (a repeated Origin arrives joined with ", " and matches nothing: refused like any other)
        self.extra, self.vary = rules.cors_parts_str(facts.origin)
        self.sent = False
        self.exchange: _Exchange | None = None

    def escalate(self) -> _Exchange:
        if self.exchange is None:
            fwd = Forward(self.shim.core, self.rules, self.facts, self.rules.cors_headers(self.facts.origin))
            self.exchange = _Exchange(self.shim, fwd, self.environ, self.real_start)
        return self.exchange

    def start_response(self, status: str, headers: StrHeaders,
                       exc_info: ExcInfo | None = None) -> Callable[[bytes], object]:
        if self.exchange is not None:
            return self.exchange.start_response(status, headers, exc_info)
        facts = self.facts
        out = pass_headers(STR_NAMES, headers, self.extra, self.vary, unwrap=self.shim.core.unwrap_legacy,
                           status=int(status[:3]), method=facts.method, dest=facts.sec_fetch_dest)
        if out is None:
            return self.escalate().start_response(status, headers, exc_info)
        self.sent = True
        return self.real_start(status, out, exc_info)


class _FastJSONP:
    """The common JSONP request (a GET with one valid callback, on a route without a Referer check and before
    its sunset): the app's JSON is wrapped without the general machinery. Anything unusual (another type, a
    compressed or oversized body, an error) hands what was collected to an `_Exchange`, which decides as if it
    had been there from the start."""

    __slots__ = ("callback", "chunks", "cors", "environ", "exc_info", "exchange", "headers", "now", "origin",
                 "param", "path", "query", "raw", "real_start", "rules", "shim", "status")

    def __init__(self, shim: WSGIShim, rules: RouteRules, environ: dict[str, Any], start_response: StartResponse,
                 path: str, query: bytes, origin: str | None, callback: bytes, param: bytes, now: float) -> None:
        self.shim = shim
        self.rules = rules
        self.environ = environ
        self.real_start = start_response
        self.path = path
        self.query = query
        self.origin = origin
        self.callback = callback
        self.param = param
        self.now = now
        # (a repeated Origin arrives joined with ", " and matches nothing: refused like any other)
        self.cors = rules.cors_headers(origin)
        self.status: str | None = None
        self.headers: StrHeaders = []
        self.exc_info: ExcInfo | None = None
        self.raw: tuple[Headers, bytes | None] | None = None  # jsonp_fast_head of the app's head
        self.chunks: list[bytes] = []
        self.exchange: _Exchange | None = None

    @classmethod
    def make(cls, shim: WSGIShim, rules: RouteRules, environ: dict[str, Any], start_response: StartResponse,
             path: str, query: bytes, origin: str | None) -> _FastJSONP | None:
        found = jsonp_callback(shim.core, rules, query)
        if found is None:
            return None
        param, value, now = found
        return cls(shim, rules, environ, start_response, path, query, origin, value, param, now)

    def forward(self) -> Forward:
        facts = _all_facts(self.environ, "GET", self.path, self.query, self.origin)
        return Forward(self.shim.core, self.rules, facts, self.cors, self.callback, self.rules.param_names[self.param])

    def start_response(self, status: str, headers: StrHeaders,
                       exc_info: ExcInfo | None = None) -> Callable[[bytes], object]:
        if self.exchange is not None:
            return self.exchange.start_response(status, headers, exc_info)
        # nothing has been sent yet, so a second call (an error handler's) simply replaces the first
        self.status, self.headers, self.exc_info = status, headers, exc_info
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        self.raw = jsonp_fast_head(int(status[:3]), raw)
        return self._write

    def _write(self, data: bytes) -> None:
        """The legacy `write()` callable: collected here, or the general machinery's once it took over."""
        if self.exchange is None:
            self.chunks.append(data)
        else:
            self.exchange._write_buffered(data)

    def _exchange(self) -> _Exchange:
        """Hand over to the general machinery, replaying the head the app gave."""
        if self.exchange is None:
            self.exchange = exchange = _Exchange(self.shim, self.forward(), self.environ, self.real_start)
            if self.status is not None:
                exchange.start_response(self.status, self.headers, self.exc_info)
        return self.exchange

    def run(self) -> Iterable[bytes]:
        try:
            result = self.shim.app(self.environ, self.start_response)
        except Exception as exc:
            return self._exchange()._error(exc)
        chunks = self.chunks
        if self.status is not None and self.raw is None:  # not plain JSON: no need to read the body here
            return self._exchange()._continue(_Chain(chunks, iter(result), result, False))
        max_body = self.shim.core.max_body
        size = sum(map(len, chunks))
        iterator = iter(result)
        try:
            for chunk in iterator:
                if chunk:
                    chunks.append(chunk)
                    size += len(chunk)
                if self.raw is None or size > max_body:  # a head to look at, or too big to wrap
                    return self._exchange()._continue(_Chain(chunks, iterator, result, False))
        except Exception as exc:
            _close(result)
            return self._exchange()._error(exc)
        _close(result)
        fast = self.raw
        whole = b"".join(chunks)
        if fast is None or self.status is None or not wrappable_json(whole, max_body):
            return self._exchange()._continue([whole] if whole else [])
        base, vary = fast
        out = wrap_jsonp(self.callback, whole.strip(b" \t\r\n"))
        headers = jsonp_headers(self.rules, self.cors, base, vary, len(out))
        sink = self.shim.core.sink
        if sink is not None:
            get = self.environ.get
            sink.emit_fields((self.now, "GET", self.path, self.rules.param_names[self.param],
                              self.callback.decode("ascii"), get("HTTP_REFERER"), get("HTTP_SEC_FETCH_SITE"),
                              get("HTTP_SEC_FETCH_DEST"), get("HTTP_USER_AGENT"), int(self.status[:3])))
        self.real_start(self.status, _to_str(headers), self.exc_info)
        return [out]


class _Exchange:
    """One forwarded request: intercepts start_response, buffers when the plan says so."""

    __slots__ = ("_environ", "chunks", "code", "core", "drop_body", "exc_info", "fast", "fwd", "plan", "raw",
                 "real_start", "real_write", "sent", "shim", "start_action", "status")

    def __init__(self, shim: WSGIShim, fwd: Forward, environ: dict[str, Any],
                 start_response: StartResponse) -> None:
        self.shim = shim
        self.core = shim.core
        self.fwd = fwd
        self.plan: ResponsePlan = fwd.plan()
        self.real_start = start_response
        self.status = ""
        self.exc_info: ExcInfo | None = None
        self.start_action = -1  # -1: app has not called start_response yet
        self.chunks: list[bytes] = []
        self.sent = False
        self.code = 200
        self.raw: Headers = []
        self.fast: tuple[Headers, bytes | None] | None = None  # JSONP fast path: (app headers kept, app Vary)
        self.drop_body = fwd.method != fwd.facts.method
        if fwd.method != environ["REQUEST_METHOD"]:  # a JSONP HEAD: the app serves it as a GET
            environ = dict(environ)
            environ["REQUEST_METHOD"] = fwd.method
        self._environ = environ
        self.real_write: Callable[[bytes], object] | None = None  # the server's write(), once the head is out

    def start_response(self, status: str, headers: StrHeaders,
                       exc_info: ExcInfo | None = None) -> Callable[[bytes], object]:
        if self.sent:
            if exc_info is not None:
                raise exc_info[1].with_traceback(exc_info[2])
            raise AssertionError("start_response called twice without exc_info")
        if self.start_action != -1:  # an error handler replaces an unsent response
            self.plan = self.fwd.plan()
            self.chunks.clear()
            self.fast = None
        self.status = status
        self.exc_info = exc_info
        self.code = code = int(status[:3])
        self.raw = raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if self.fwd.callback is not None:
            self.fast = jsonp_fast_head(code, raw)
            if self.fast is not None:
                self.start_action = BUFFER
                return self._write_buffered
        self.start_action = self.plan.start(code, raw)
        if self.start_action == SEND:
            return self._send_head(self.plan.headers)
        return self._write_buffered

    def _send_head(self, headers: Headers) -> Callable[[bytes], object]:
        self.sent = True
        write = self.real_start(self.status, _to_str(headers), self.exc_info)
        if self.drop_body:
            return lambda data: None
        self.real_write = write
        return write

    def _write_buffered(self, data: bytes) -> None:
        if self.sent:  # the head is out (overflow, or a head sent unchanged): pass writes on
            if self.real_write is not None:
                self.real_write(data)
            return
        self.chunks.append(data)

    def run(self) -> Iterable[bytes]:
        try:
            result = self.shim.app(self._environ, self.start_response)
        except Exception as exc:
            return self._error(exc)
        if self.start_action == SEND and not self.chunks:
            if self.drop_body:
                _close(result)
                return []
            return result
        return self._continue(result)

    def _error(self, exc: Exception) -> Iterable[bytes]:
        if self.sent:
            raise exc
        log.error("jsonp2cors: the application raised before responding; answering 500", exc_info=exc)
        response = self.core.error_response(self.fwd)
        self.real_start(_status_line(500), _to_str(response.headers), sys.exc_info())
        self.sent = True
        return [response.body]

    def _continue(self, result: Iterable[bytes]) -> Iterable[bytes]:
        iterator = iter(result)
        max_body = self.core.max_body
        size = 0
        for written in self.chunks:
            size += len(written)
        try:
            while True:
                if self.start_action == SEND:
                    if not self.sent:
                        self._send_head(self.plan.headers)
                    return _Chain(self.chunks, iterator, result, self.drop_body)
                try:
                    chunk = next(iterator)
                except StopIteration:
                    break
                if self.start_action == -1:
                    raise RuntimeError("the WSGI application yielded a body before calling start_response")
                if not chunk:
                    continue
                if self.start_action == PEEK and not self.chunks:
                    self.start_action = self.plan.peek(chunk)
                    if self.start_action == SEND:
                        self.chunks.append(chunk)
                        continue
                self.chunks.append(chunk)
                size += len(chunk)
                if size > max_body:
                    self._general()
                    self.start_action = SEND
                    self.plan.headers = self.plan.overflow()
        except Exception as exc:
            _close(result)
            return self._error(exc)
        _close(result)
        if self.start_action == -1:
            raise RuntimeError("the WSGI application returned without calling start_response")
        if self.start_action == SEND or self.sent:
            if not self.sent:
                self._send_head(self.plan.headers)
            return [] if self.drop_body else self.chunks
        whole = b"".join(self.chunks)
        if self.fast is not None:
            base, vary = self.fast
            wrapped = jsonp_fast_body(self.fwd, self.code, base, vary, whole)
            if wrapped is not None:
                fast_headers, out = wrapped
                self._send_head(fast_headers)
                return [] if self.drop_body else [out]
            self._general()
        headers, body = self.plan.finish(whole)
        self._send_head(headers)
        return [] if self.drop_body else [body]

    def _general(self) -> None:
        """Leave the JSONP fast path: the general plan looks at the head the app gave."""
        if self.fast is not None:
            self.fast = None
            self.plan.start(self.code, self.raw)


class _Chain:
    """Already-read chunks, then the rest of the app's iterator; closes the app's iterable (PEP 3333)."""

    def __init__(self, head: list[bytes], rest: Iterator[bytes], original: Iterable[bytes],
                 drop: bool) -> None:
        self._head = list(head)
        self._rest = rest
        self._original = original
        self._drop = drop

    def __iter__(self) -> Iterator[bytes]:
        if self._drop:
            return
        yield from self._head
        self._head.clear()
        yield from self._rest

    def close(self) -> None:
        _close(self._original)


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


__all__ = ["WSGIShim"]
