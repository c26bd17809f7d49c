"""Token-level pass for files Python 3 cannot parse (mostly Python 2): low-confidence endpoints, a reason."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

from jsonp2cors.findings import Endpoint
from jsonp2cors.scan.base import ScanConfig
from jsonp2cors.scan.pydetect import padding, tables
from jsonp2cors.scan.pydetect.paths import is_test_path

_OLD_OCTAL = re.compile(r"^0[0-7]+$")
_CREDENTIAL_WORDS = frozenset(
    {
        "session",
        "cookies",
        "COOKIES",
        "current_user",
        "login_required",
        "HTTP_COOKIE",
        "get_secure_cookie",
        "get_cookie",
        "authenticated",
    }
)


def _bare_comma(tokens: list[tokenize.TokenInfo], start: int, *, stop_at_colon: bool = False) -> bool:
    """Is there a comma outside brackets before the end of the line (or the first `:`) from `start` on?"""
    depth = 0
    for follow in tokens[start:]:
        if follow.string in ("(", "["):
            depth += 1
        elif follow.string in (")", "]"):
            depth -= 1
        elif follow.string == "," and depth == 0:
            return True
        elif (stop_at_colon and follow.string == ":") or follow.type in (tokenize.NEWLINE, tokenize.NL):
            return False
    return False


def python2_marker(tokens: list[tokenize.TokenInfo]) -> tuple[str, int] | None:
    """The first sign of Python 2 in a token stream: (what, line)."""
    at_start = True
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if (
            tok.type == tokenize.NAME
            and at_start
            and tok.string in ("print", "exec")
            and nxt is not None
            and (nxt.type in (tokenize.STRING, tokenize.NAME, tokenize.NUMBER) or nxt.string in (">>", "%"))
        ):
            return f"{tok.string} statement", tok.start[0]
        if tok.type == tokenize.NAME and tok.string == "except" and _bare_comma(tokens, i + 1, stop_at_colon=True):
            return "`except X, e` clause", tok.start[0]
        if tok.type == tokenize.NAME and tok.string == "raise" and nxt is not None and _bare_comma(tokens, i + 1):
            return "`raise E, msg` statement", tok.start[0]
        if tok.type == tokenize.ERRORTOKEN and tok.string == "`":
            return "backtick repr", tok.start[0]
        if tok.type == tokenize.OP and tok.string == "<>":
            return "`<>` operator", tok.start[0]
        if tok.type == tokenize.NUMBER and (tok.string[-1:] in ("l", "L") or _OLD_OCTAL.match(tok.string)):
            return "Python 2 number literal", tok.start[0]
        if tok.type == tokenize.STRING and tok.string[:2].lower() == "ur":
            return "ur'' string prefix", tok.start[0]
        if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL):
            at_start = True
        elif tok.type != tokenize.COMMENT:
            # `if x: print "y"` starts a statement after the colon
            at_start = tok.string == ":" and nxt is not None and nxt.type not in (tokenize.NEWLINE, tokenize.NL)
    return None


def tokens_of(text: str) -> list[tokenize.TokenInfo]:
    out: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            out.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def _string(tok: tokenize.TokenInfo) -> str | None:
    text = tok.string
    prefix = re.match(r"^[A-Za-z]*", text)
    assert prefix is not None
    body = text[prefix.end() :]
    letters = prefix.group(0).lower().replace("u", "").replace("b", "")
    if "f" in letters:
        return None
    try:
        value = ast.literal_eval(("r" if "r" in letters else "") + body)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


@dataclass
class _Scope:
    name: str
    line: int
    indent: int
    route: str | None = None
    methods: tuple[str, ...] = ("GET",)
    keys: list[str] = field(default_factory=list)
    pad: bool = False
    helper_call: bool = False
    credentials: bool = False
    is_class: bool = False
    decorators: tuple[str, ...] = ()  # dotted names as written: `@utils.jsonp`, `@jsonp(param="cb")` -> "jsonp"


@dataclass(frozen=True)
class Decorated:
    """A function the token pass saw decorated, not itself padding: a decorator defined in a module Python 3
    can read may pad it (the whole-repo pass decides). `decorators` are absolute where the imports tell."""

    endpoint: Endpoint  # as it would be reported (no callback parameters yet)
    decorators: tuple[str, ...]


def _decorator_methods(tokens: list[tokenize.TokenInfo], open_at: int) -> tuple[str, ...] | None:
    """The `methods=[...]` of a decorator call whose "(" is at `open_at`: ("GET", "POST"), or None."""
    depth = 0
    for k in range(open_at, min(len(tokens), open_at + 200)):
        t = tokens[k].string
        if t in ("(", "[", "{"):
            depth += 1
        elif t in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return None
        elif (
            t == "methods" and depth == 1 and k + 2 < len(tokens)
            and tokens[k + 1].string == "=" and tokens[k + 2].string in ("[", "(")
        ):
            found: list[str] = []
            for u in tokens[k + 3 : k + 40]:
                if u.string in ("]", ")"):
                    break
                value = _string(u) if u.type == tokenize.STRING else None
                if value:
                    found.append(value.upper())
            return tuple(found) or None
    return None


def token_endpoints(
    rel: str, text: str, config: ScanConfig, decorated: list[Decorated] | None = None
) -> list[Endpoint]:
    """Functions that read a callback-like request parameter and build `name(`-shaped strings. `decorated`, when
    given, receives the other decorated functions (with their decorators' absolute names)."""
    tokens = tokens_of(text)
    scopes: list[_Scope] = [_Scope("<module>", 1, -1)]
    done: list[_Scope] = []
    depth = 0
    pending_route: str | None = None
    pending_methods: tuple[str, ...] | None = None  # from the route decorator's `methods=[...]`
    pending_decorators: list[str] = []
    imported: dict[str, str] = {}  # local name -> absolute (`from app.utils import jsonp as j`: j -> app.utils.jsonp)
    framework = "generic"
    at_start = True  # the token begins a statement (for `import x` / `from x import y`)
    for i, tok in enumerate(tokens):
        starts, at_start = at_start, tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
        if starts and tok.type == tokenize.NAME and tok.string in ("import", "from") and i + 1 < len(tokens):
            j, dotted = i + 1, ""  # the module named: `import a.b` / `from a.b import c` (then "a.b.c")
            while j < len(tokens) and (tokens[j].type == tokenize.NAME or tokens[j].string == ".") and (
                tokens[j].string != "import"
            ):
                dotted += tokens[j].string
                j += 1
            base = dotted
            if tok.string == "from" and j + 1 < len(tokens) and tokens[j].string == "import":
                dotted += "." + tokens[j + 1].string  # `from google.appengine.ext import webapp`
                _record_imports(tokens, j + 1, base, imported)
            framework = tables.framework_of_imports([dotted]) or framework
        if tok.type == tokenize.INDENT:
            depth += 1
        elif tok.type == tokenize.DEDENT:
            depth -= 1
            while len(scopes) > 1 and scopes[-1].indent >= depth:
                done.append(scopes.pop())
        elif tok.type == tokenize.OP and tok.string == "@" and i + 3 < len(tokens):
            j = i + 1
            while j + 1 < len(tokens) and tokens[j].type == tokenize.NAME and tokens[j + 1].string == ".":
                j += 2
            if tokens[j].type == tokenize.NAME:
                pending_decorators.append("".join(t.string for t in tokens[i + 1 : j + 1]))
            if (
                tokens[j].type == tokenize.NAME
                and tokens[j].string in ("route", "get", "post")
                and (j + 2 < len(tokens) and tokens[j + 1].string == "(" and tokens[j + 2].type == tokenize.STRING)
            ):
                pending_route = _string(tokens[j + 2])
                pending_methods = _decorator_methods(tokens, j + 1) or (
                    (tokens[j].string.upper(),) if tokens[j].string != "route" else None
                )
        elif tok.type == tokenize.NAME and tok.string in ("def", "class") and i + 1 < len(tokens):
            name = tokens[i + 1].string
            owner = scopes[-1]
            if tok.string == "def" and owner.is_class:
                name = f"{owner.name}.{name}"  # a method: ProfileView.get
            scope = _Scope(name, tok.start[0], depth, pending_route, is_class=tok.string == "class")
            if tok.string == "def" and owner.is_class and tokens[i + 1].string in tables.HANDLER_METHODS:
                scope.methods = (tables.HANDLER_METHODS[tokens[i + 1].string],)
            elif pending_methods:
                scope.methods = pending_methods
            scope.decorators = tuple(pending_decorators)
            pending_route, pending_methods, pending_decorators = None, None, []
            scopes.append(scope)
        elif tok.type == tokenize.STRING:
            value = _string(tok)
            if value is None:
                continue
            prev = tokens[i - 1].string if i else ""
            prev2 = tokens[i - 2].string if i > 1 else ""
            cur = scopes[-1]
            subscript = prev == "[" and i > 1 and (tokens[i - 2].type == tokenize.NAME or prev2 in (")", "]"))
            if (
                prev in ("(", "[")
                and tables.is_callback_name(value, config.callback_params)
                and (subscript or (prev == "(" and prev2 in tables.SOURCE_METHODS))
            ):  # request.args["callback"], get("callback"); not a default such as get("callback", ["cb"])
                cur.keys.append(value)
            if not padding.looks_like_html(value) and (
                padding.percent_name_slot(value) is not None
                or padding.brace_name_slot(value) is not None
                or (padding.opens_call(value) and len(value.strip()) <= 8)
            ):
                cur.pad = True
        elif tok.type == tokenize.NAME:
            cur = scopes[-1]
            nxt = tokens[i + 1].string if i + 1 < len(tokens) else ""
            prev = tokens[i - 1].string if i else ""
            if "jsonp" in tok.string.lower() and nxt == "(" and prev != "def":
                cur.helper_call = True
            if (
                prev == "."
                and tables.is_callback_name(tok.string, config.callback_params)
                and i > 2
                and tokens[i - 2].string in tables.REQUEST_CONTAINER_NAMES
            ):
                cur.keys.append(tok.string)
            if tok.string in _CREDENTIAL_WORDS or (
                tok.string == "user" and prev == "." and i > 1 and tokens[i - 2].string == "request"
            ):
                cur.credentials = True
    done.extend(scopes)
    out: list[Endpoint] = []
    for s in done:
        reported = not s.is_class and ((s.keys and s.pad) or s.helper_call)
        if not reported and decorated is not None and s.decorators and not s.is_class:
            absolute = tuple(_absolute(d, imported) for d in s.decorators)
            decorated.append(Decorated(_endpoint(rel, s, framework), absolute))
        if not reported:
            continue
        out.append(_endpoint(rel, s, framework))
    return out


def _absolute(dotted: str, imported: dict[str, str]) -> str:
    head, _, rest = dotted.partition(".")
    base = imported.get(head)
    return (f"{base}.{rest}" if rest else base) if base else dotted


def _record_imports(tokens: list[tokenize.TokenInfo], start: int, base: str, imported: dict[str, str]) -> None:
    """`from base import a, b as c` (tokens from `a` on): a -> base.a, c -> base.b."""
    k = start
    while k < len(tokens) and tokens[k].type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
        if tokens[k].type == tokenize.NAME and tokens[k].string != "as":
            name = tokens[k].string
            local = name
            if k + 2 < len(tokens) and tokens[k + 1].string == "as":
                local = tokens[k + 2].string
                k += 2
            imported[local] = f"{base}.{name}"
        k += 1


def _endpoint(rel: str, s: _Scope, framework: str) -> Endpoint:
    return Endpoint(
        file=rel,
        line=s.line,
        function=s.name,
        framework=framework,
        route=s.route,
        methods=s.methods,
        callback_params=tuple(dict.fromkeys(s.keys)),
        credentials=s.credentials,
        role="handler",
        confidence="low",
        recognised_by="python2-tokens",
        test_code=is_test_path(rel),
        credentials_reason="mentions cookies, the session or the user" if s.credentials else None,
    )
