"""Export the policy to what other systems accept as-is: Starlette, flask-cors, django-cors-headers, nginx,
Amazon S3 bucket CORS and API Gateway. What a target cannot express is reported, never dropped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from jsonp2cors.policy import CORS_SAFELISTED_METHODS, CORSSettings, Policy
from jsonp2cors.policy.origin import CANONICAL_ORIGIN, OriginPattern, parse_allow_entry

__all__ = ["TARGETS", "Export", "Loss", "export", "origin_regex"]

# Host labels as OriginMatcher accepts them in a request Origin header.
_LABEL = r"[a-z0-9_\-]+"
# `*` without allow_null: every serialised origin (what OriginMatcher accepts), not the opaque `null`.
ANY_ORIGIN = re.sub(r"\((?!\?)", "(?:", CANONICAL_ORIGIN)
S3_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
S3_MAX_RULES = 100
SAFELISTED = CORS_SAFELISTED_METHODS
APIGW_MAX_AGE = 86400


@dataclass(frozen=True)
class Loss:
    """A part of the policy the target cannot express: the TOML entry and what happens instead."""

    entry: str
    message: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.message}"


@dataclass(frozen=True)
class Export:
    """Files for one target (name -> text, the main one first), what was lost, and notes on the target."""

    target: str
    files: dict[str, str]
    losses: tuple[Loss, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """All files as one text (extra files follow the main one under a `---- file:` comment)."""
        names = list(self.files)
        out = self.files[names[0]]
        for name in names[1:]:
            out += f"\n# ---- file: {name} ----\n" + self.files[name]
        return out


# ------------------------------------------------------------------------------------------- helpers


def origin_regex(entry: str, *, end: str = r"\Z") -> str:
    """An anchored regular expression that accepts exactly what `OriginMatcher([entry])` accepts."""
    parsed = parse_allow_entry(entry)
    port = "" if parsed.port is None else f":{parsed.port}"
    if isinstance(parsed, OriginPattern):
        return f"^{re.escape(parsed.scheme)}://(?:{_LABEL}\\.)+{re.escape(parsed.domain)}{re.escape(port)}{end}"
    return f"^{re.escape(str(parsed))}{end}"


def _split_origins(origins: Sequence[str]) -> tuple[list[str], list[str], bool]:
    """(exact origins, patterns, any) of a normalised allow_origins tuple."""
    exact: list[str] = []
    patterns: list[str] = []
    for entry in origins:
        if entry == "*":
            continue
        (patterns if isinstance(parse_allow_entry(entry), OriginPattern) else exact).append(entry)
    return exact, patterns, "*" in origins


def _with_safelisted(methods: Sequence[str]) -> list[str]:
    """Methods plus the CORS-safelisted ones browsers allow anyway (for targets that gate preflights)."""
    out = list(methods)
    out += [m for m in ("GET", "HEAD", "POST") if m not in out and "*" not in out]
    return out


def _route_name(policy: Policy, index: int) -> str:
    return f"route[{index}] (path {policy.routes[index].path!r})"


def _single_config(policy: Policy, target: str) -> list[Loss]:
    """Losses for a target that has one CORS configuration for everything: route overrides that differ."""
    losses: list[Loss] = []
    base = policy.cors
    for i, route in enumerate(policy.routes):
        eff = policy.for_path(route.path).cors
        for f in fields(CORSSettings):
            mine, top = getattr(eff, f.name), getattr(base, f.name)
            if _same_effect(f.name, mine, top):
                continue
            if mine != top:
                losses.append(Loss(f"{_route_name(policy, i)}.{f.name}",
                                   f"{target} has one CORS configuration for all paths; this route's "
                                   f"{f.name} = {_show(mine)} (top level {_show(top)}) cannot be expressed; "
                                   "the top-level value is exported"))
    return losses


def _same_effect(name: str, mine: object, top: object) -> bool:
    """Whether two values of a CORS setting make browsers behave the same (order, case, safelisted methods)."""
    if name == "allow_methods" and isinstance(mine, tuple) and isinstance(top, tuple):
        return {m for m in mine if m not in SAFELISTED} == {m for m in top if m not in SAFELISTED}
    if name in ("allow_headers", "expose_headers") and isinstance(mine, tuple) and isinstance(top, tuple):
        return {h.lower() for h in mine} == {h.lower() for h in top}
    if name == "allow_origins" and isinstance(mine, tuple) and isinstance(top, tuple):
        return set(mine) == set(top)
    return mine == top


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return json.dumps(list(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _star_headers_with_credentials(cors: CORSSettings, where: str, target: str) -> list[Loss]:
    losses = []
    if cors.allow_credentials and "*" in cors.allow_headers:
        losses.append(Loss(f"{where}.allow_headers", f"with credentials browsers read '*' literally, but "
                           f"{target} treats it as 'every header'; list the header names"))
    return losses


def _py(value: object) -> str:
    """A Python literal for a list/str/bool/int (lists one item per line when long)."""
    if isinstance(value, (list, tuple)):
        items = [_py(v) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) <= 80:
            return one_line
        return "[\n" + "".join(f"        {item},\n" for item in items) + "    ]"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _raw(regex: str) -> str:
    return f'r"{regex}"' if '"' not in regex else repr(regex)


# ---------------------------------------------------------------------------------------- Starlette


def export_starlette(policy: Policy, **_: Any) -> Export:
    cors = policy.cors
    losses = _single_config(policy, "Starlette's CORSMiddleware")
    losses += _star_headers_with_credentials(cors, "cors", "Starlette")
    if cors.allow_private_network:
        losses.append(Loss("cors.allow_private_network",
                           "Starlette's CORSMiddleware cannot answer Private Network Access preflights"))
    exact, patterns, any_origin = _split_origins(cors.allow_origins)
    star = any_origin and cors.allow_null  # Starlette's '*' answers 'null' too
    origins = (["*"] if star else []) + exact + (["null"] if cors.allow_null else [])
    alternatives = [f"(?:{origin_regex(p, end='')[1:]})" for p in patterns]
    if any_origin and not star:
        alternatives = [f"(?:{ANY_ORIGIN})"]  # '*' but not 'null': every serialised origin, echoed
    regex = "|".join(alternatives)
    lines = [
        '"""Starlette CORSMiddleware settings exported by `jsonp2cors policy export --to starlette`.',
        "",
        "    from starlette.middleware import Middleware",
        "    from starlette.middleware.cors import CORSMiddleware",
        "    app = Starlette(..., middleware=[Middleware(CORSMiddleware, **CORS_MIDDLEWARE_KWARGS)])",
        '"""',
        "",
        "CORS_MIDDLEWARE_KWARGS = {",
        f'    "allow_origins": {_py(origins)},',
    ]
    if regex:
        lines.append("    # wildcard subdomains, anchored; Starlette matches with fullmatch()")
        lines.append(f'    "allow_origin_regex": {_raw("^(?:" + regex + ")$")},')
    lines += [
        "    # GET, HEAD and POST are CORS-safelisted: browsers allow them whatever the list says, so they",
        "    # are listed for preflights that carry custom headers.",
        f'    "allow_methods": {_py(_with_safelisted(cors.allow_methods))},',
        f'    "allow_headers": {_py(list(cors.allow_headers))},',
        f'    "allow_credentials": {cors.allow_credentials!r},',
        f'    "expose_headers": {_py(list(cors.expose_headers))},',
        f'    "max_age": {cors.max_age},',
        "}",
    ]
    notes = ("Starlette always allows the request headers Accept, Accept-Language, Content-Language and "
             "Content-Type in preflights, listed or not",)
    return Export("starlette", {"cors_settings.py": "\n".join(lines) + "\n"}, tuple(losses), notes)


# --------------------------------------------------------------------------------------- flask-cors


def _flask_options(cors: CORSSettings) -> list[str]:
    exact, patterns, any_origin = _split_origins(cors.allow_origins)
    star = any_origin and cors.allow_null  # flask-cors' '*' answers 'null' too
    origins: list[str] = []
    if star:
        origins.append('"*"')
    origins += [json.dumps(o) for o in exact]
    if cors.allow_null:
        origins.append('"null"')
    origins += [f"re.compile({_raw(origin_regex(p))})" for p in patterns]
    if any_origin and not star:  # every serialised origin but 'null', echoed back
        origins.append(f"re.compile({_raw('^' + ANY_ORIGIN + chr(92) + 'Z')})")
    return [
        f'"origins": [{", ".join(origins)}],',
        f'"methods": {_py(_with_safelisted(cors.allow_methods))},',
        f'"allow_headers": {_py(list(cors.allow_headers))},',
        f'"expose_headers": {_py(list(cors.expose_headers))},',
        f'"supports_credentials": {cors.allow_credentials!r},',
        f'"max_age": {cors.max_age},',
        f'"send_wildcard": {star and not cors.allow_credentials!r},',
        f'"allow_private_network": {cors.allow_private_network!r},',
        '"always_send": False,',
        '"vary_header": True,',
    ]


def _path_regex(prefix: str) -> str:
    if prefix == "/":
        return r"^/.*\Z"
    return f"^{re.escape(prefix)}(?:/.*)?\\Z"


def export_flask(policy: Policy, **_: Any) -> Export:
    losses = _star_headers_with_credentials(policy.cors, "cors", "flask-cors")
    for i, route in enumerate(policy.routes):
        eff = policy.for_path(route.path).cors
        losses += _star_headers_with_credentials(eff, f"route[{i}]", "flask-cors")
    lines = [
        '"""flask-cors options exported by `jsonp2cors policy export --to flask-cors`.',
        "",
        "    from flask_cors import CORS",
        "    CORS(app, resources=CORS_RESOURCES)",
        "",
        "One resource per [[route]] (flask-cors tries the deepest path first) and one for everything else.",
        "Wildcard subdomains are compiled, anchored, case-sensitive regular expressions.",
        '"""',
        "",
        "import re",
        "",
        "CORS_RESOURCES = {",
    ]
    scopes = [(route.path, policy.for_path(route.path).cors) for route in policy.routes]
    if not any(path == "/" for path, _ in scopes):
        scopes.append(("/", policy.cors))
    for path, cors in scopes:
        lines.append(f"    {_raw(_path_regex(path))}: {{  # {path}")
        lines += [f"        {line}" for line in _flask_options(cors)]
        lines.append("    },")
    lines.append("}")
    return Export("flask-cors", {"cors_settings.py": "\n".join(lines) + "\n"}, tuple(losses))


# ------------------------------------------------------------------------------------------- Django


def export_django(policy: Policy, **_: Any) -> Export:
    cors = policy.cors
    losses = _single_config(policy, "django-cors-headers")
    exact, patterns, any_origin = _split_origins(cors.allow_origins)
    if cors.allow_null:
        exact.append("null")
    regexes = [_raw(origin_regex(p)) for p in patterns]
    star = any_origin and cors.allow_null  # CORS_ALLOW_ALL_ORIGINS answers 'null' too
    if any_origin and not star:
        regexes = [_raw("^" + ANY_ORIGIN + "\\Z")]  # every serialised origin but 'null', echoed
    lines = [
        '"""django-cors-headers settings exported by `jsonp2cors policy export --to django`.',
        "",
        'Add "corsheaders" to INSTALLED_APPS and "corsheaders.middleware.CorsMiddleware" high in MIDDLEWARE,',
        "then import these names into settings.py.",
        '"""',
        "",
        f"CORS_ALLOW_ALL_ORIGINS = {star!r}",
        f"CORS_ALLOWED_ORIGINS = {_py(exact)}",
        "# wildcard subdomains; django-cors-headers uses re.match, so each is anchored at both ends",
        f"CORS_ALLOWED_ORIGIN_REGEXES = [{', '.join(regexes)}]",
        f"CORS_ALLOW_METHODS = {_py(list(cors.allow_methods))}",
        f"CORS_ALLOW_HEADERS = {_py(list(cors.allow_headers))}",
        f"CORS_EXPOSE_HEADERS = {_py(list(cors.expose_headers))}",
        f"CORS_ALLOW_CREDENTIALS = {cors.allow_credentials!r}",
        f"CORS_PREFLIGHT_MAX_AGE = {cors.max_age}",
        f"CORS_ALLOW_PRIVATE_NETWORK = {cors.allow_private_network!r}",
        r'CORS_URLS_REGEX = r"^.*\Z"',
    ]
    if cors.max_age == 0:
        lines.append("# max_age = 0: django-cors-headers then sends no Access-Control-Max-Age")
        losses.append(Loss("cors.max_age", "django-cors-headers sends no Access-Control-Max-Age for 0; "
                           "browsers then cache preflights for 5 s instead of not at all"))
    return Export("django", {"cors_settings.py": "\n".join(lines) + "\n"}, tuple(losses))


# -------------------------------------------------------------------------------------------- nginx


def _ngx(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def export_nginx(policy: Policy, *, name: str = "cors", **_: Any) -> Export:
    scopes: list[tuple[str, str | None, CORSSettings]] = []
    ordered = sorted(enumerate(policy.routes), key=lambda ir: (-len(ir[1].path), ir[1].path))
    for i, route in ordered:
        scopes.append((f"r{i}", route.path, policy.for_path(route.path).cors))
    top_id = "top"
    if not any(path == "/" for _sid, path, _c in scopes):
        scopes.append((top_id, None, policy.cors))
    default_id = next((sid for sid, path, _c in scopes if path == "/"), top_id)

    http: list[str] = [
        "# CORS for nginx, exported by `jsonp2cors policy export --to nginx`. Part 1 of 2: http context.",
        f"# Include this file inside http {{ }}; include {name}.server.conf inside the API's server {{ }}.",
        "",
        "# Which [[route]] applies: the longest path prefix, on '/' boundaries.",
        "map $uri $cors_route {",
        f"    default {default_id};",
    ]
    for sid, path, _c in scopes:
        if path is not None and path != "/":
            http.append(f"    {_ngx('~^' + re.escape(path) + '(?:/|$)')} {sid};")
    http += ["}", "", "# The allowed origin echoed back (regular expressions are case-sensitive, as browsers",
             "# always send lower-case origins); empty = not allowed, no CORS headers.",
             'map "$cors_route $http_origin" $cors_allow_origin {', '    default "";']
    for sid, _path, cors in scopes:
        exact, patterns, any_origin = _split_origins(cors.allow_origins)
        if cors.allow_null:
            http.append(f"    {_ngx('~^' + sid + ' null$')} $http_origin;")
        for entry in exact + patterns:
            http.append(f"    {_ngx('~^' + sid + ' ' + origin_regex(entry, end='$')[1:])} $http_origin;")
        if any_origin:  # every serialised origin; 'null' only with allow_null
            anything = "." if cors.allow_null else ANY_ORIGIN + "$"
            http.append(f"    {_ngx('~^' + sid + ' ' + anything)} \"*\";")
    http += ["}", "", "# A preflight: OPTIONS with Access-Control-Request-Method.",
             'map "$request_method:$http_access_control_request_method" $cors_preflight {',
             '    default "";', '    "~^OPTIONS:." 1;', "}"]

    def per_scope(var: str, value: Callable[[CORSSettings], str], *, preflight: bool) -> None:
        key = "$cors_route:$cors_allow_origin"
        if preflight:
            key = "$cors_preflight:" + key
        http.extend(["", f'map "{key}" ${var} {{', '    default "";'])
        for sid, _path, cors in scopes:
            text = value(cors)
            if text:
                head = f"1:{sid}:." if preflight else f"{sid}:."
                http.append(f"    {_ngx('~^' + head)} {_ngx(text)};")
        http.append("}")

    per_scope("cors_allow_credentials", lambda c: "true" if c.allow_credentials else "", preflight=False)
    per_scope("cors_expose_headers", lambda c: ", ".join(c.expose_headers), preflight=False)
    per_scope("cors_allow_methods", lambda c: ", ".join(c.allow_methods), preflight=True)
    per_scope("cors_allow_headers", lambda c: ", ".join(c.allow_headers), preflight=True)
    per_scope("cors_max_age", lambda c: str(c.max_age), preflight=True)
    per_scope("cors_allow_private_network", lambda c: "true" if c.allow_private_network else "",
              preflight=True)

    server = [
        "# CORS for nginx, part 2 of 2: server context. Include inside the server { } that serves the API.",
        "# nginx does not inherit add_header into a location that has add_header of its own: include this",
        "# file there too.",
        "add_header Access-Control-Allow-Origin $cors_allow_origin always;",
        "add_header Access-Control-Allow-Credentials $cors_allow_credentials always;",
        "add_header Access-Control-Expose-Headers $cors_expose_headers always;",
        "add_header Access-Control-Allow-Methods $cors_allow_methods always;",
        "add_header Access-Control-Allow-Headers $cors_allow_headers always;",
        "add_header Access-Control-Max-Age $cors_max_age always;",
        "add_header Access-Control-Allow-Private-Network $cors_allow_private_network always;",
        "add_header Vary Origin always;",
        "# Answer preflights here; an origin that is not allowed gets no CORS headers and the browser stops.",
        "if ($cors_preflight) {",
        "    return 204;",
        "}",
    ]
    notes = ("nginx answers every preflight with 204 and lets the browser decide from the headers; the "
             "Access-Control-Allow-Headers list is sent whole rather than echoed",)
    files = {f"{name}.conf": "\n".join(http) + "\n", f"{name}.server.conf": "\n".join(server) + "\n"}
    return Export("nginx", files, (), notes)


# ----------------------------------------------------------------------------------------------- S3


def export_s3(policy: Policy, **_: Any) -> Export:
    cors = policy.cors
    losses = _single_config(policy, "an S3 bucket")
    methods = [m for m in cors.allow_methods if m in S3_METHODS]
    for m in cors.allow_methods:
        if m not in S3_METHODS:
            losses.append(Loss("cors.allow_methods",
                               f"S3 allows only {', '.join(S3_METHODS)}; {m!r} is left out"))
    exact, patterns, any_origin = _split_origins(cors.allow_origins)
    origins = (["*"] if any_origin else []) + exact + patterns
    losses += _star_and_null(cors, any_origin, "S3")
    if cors.allow_private_network:
        losses.append(Loss("cors.allow_private_network",
                           "S3 cannot answer Private Network Access preflights"))
    if not cors.allow_credentials and (exact or patterns):
        losses.append(Loss("cors.allow_credentials", "S3 has no credentials switch: for a matching origin "
                           "other than '*' it answers Access-Control-Allow-Credentials: true"))
    if cors.allow_credentials and any_origin:
        losses.append(Loss("cors.allow_origins", "S3 answers '*' without credentials"))
    rules: list[dict[str, Any]] = []
    if origins and methods:
        rule: dict[str, Any] = {"ID": "jsonp2cors-default", "AllowedOrigins": origins,
                                "AllowedMethods": methods}
        if cors.allow_headers:
            rule["AllowedHeaders"] = list(cors.allow_headers)
        if cors.expose_headers:
            rule["ExposeHeaders"] = list(cors.expose_headers)
        rule["MaxAgeSeconds"] = cors.max_age
        rules.append(rule)
    elif origins:
        losses.append(Loss("cors.allow_methods", "no method S3 accepts is allowed; no rule is written"))
    else:
        losses.append(Loss("cors.allow_origins", "no origin is allowed, and S3 takes no empty rule list: "
                           "remove the bucket's CORS with `aws s3api delete-bucket-cors` instead"))
    text = json.dumps({"CORSRules": rules[:S3_MAX_RULES]}, indent=2) + "\n"
    notes = ("apply with: aws s3api put-bucket-cors --bucket BUCKET --cors-configuration file://cors.json",)
    return Export("s3", {"cors.json": text}, tuple(losses), notes)


# ---------------------------------------------------------------------------------------- API Gateway


def _star_and_null(cors: CORSSettings, any_origin: bool, target: str) -> list[Loss]:
    """Targets whose only wildcard is a plain '*', which answers the opaque origin 'null' too."""
    if any_origin and not cors.allow_null:
        return [Loss("cors.allow_origins", f"{target}'s '*' also answers the opaque origin 'null', which the "
                     "policy keeps out (allow_null = false)")]
    if cors.allow_null and not any_origin:
        return [Loss("cors.allow_null", f"{target} has no way to allow the 'null' origin")]
    return []


def _apigw_http(policy: Policy) -> Export:
    cors = policy.cors
    losses = _single_config(policy, "an API Gateway HTTP API")
    exact, patterns, any_origin = _split_origins(cors.allow_origins)
    for p in patterns:
        losses.append(Loss(f"cors.allow_origins ({p})", "HTTP API CORS takes exact origins, '*', 'https://*' "
                           "or 'http://*', not wildcard subdomains; the pattern is left out"))
    losses += _star_and_null(cors, any_origin, "HTTP API CORS")
    if cors.allow_private_network:
        losses.append(Loss("cors.allow_private_network",
                           "HTTP API CORS cannot answer Private Network Access preflights"))
    max_age = cors.max_age
    if max_age > APIGW_MAX_AGE:
        losses.append(Loss("cors.max_age", f"HTTP API CORS takes MaxAge up to {APIGW_MAX_AGE}; "
                           f"{max_age} is lowered to it"))
        max_age = APIGW_MAX_AGE
    config: dict[str, Any] = {
        "AllowOrigins": (["*"] if any_origin else []) + exact,
        "AllowMethods": list(cors.allow_methods),
        "AllowHeaders": list(cors.allow_headers),
        "ExposeHeaders": list(cors.expose_headers),
        "MaxAge": max_age,
        "AllowCredentials": cors.allow_credentials,
    }
    notes = ("apply with: aws apigatewayv2 update-api --api-id API --cors-configuration file://cors.json",)
    return Export("apigateway", {"cors.json": json.dumps(config, indent=2) + "\n"}, tuple(losses), notes)


def _vtl_condition(cors: CORSSettings) -> str:
    exact, patterns, any_origin = _split_origins(cors.allow_origins)
    if any_origin:
        return '$origin != ""' if cors.allow_null else '$origin != "" && $origin != "null"'
    tests = [f'$origin == "{o}"' for o in exact]
    if cors.allow_null:
        tests.append('$origin == "null"')
    tests += [f'$origin.matches("{origin_regex(p, end="$")[1:-1]}")' for p in patterns]
    return " || ".join(tests) or "false"


def _rest_operation(cors: CORSSettings) -> dict[str, Any]:
    _, _, any_origin = _split_origins(cors.allow_origins)
    allow = "'*'" if any_origin and not cors.allow_credentials else None
    template = [
        '#set($origin = $input.params().header.get("Origin"))',
        '#if("$!origin" == "")#set($origin = $input.params().header.get("origin"))#end',
        f"#if({_vtl_condition(cors)})",
        "#set($context.responseOverride.header.Access-Control-Allow-Origin = "
        + ('"*"' if allow else "$origin") + ")",
    ]
    if cors.allow_credentials:
        template.append('#set($context.responseOverride.header.Access-Control-Allow-Credentials = "true")')
    template.append("#end")
    params = {
        "method.response.header.Access-Control-Allow-Methods": f"'{', '.join(cors.allow_methods)}'",
        "method.response.header.Access-Control-Max-Age": f"'{cors.max_age}'",
        "method.response.header.Vary": "'Origin'",
    }
    if cors.allow_headers:
        params["method.response.header.Access-Control-Allow-Headers"] = f"'{', '.join(cors.allow_headers)}'"
    headers = {h: {"schema": {"type": "string"}} for h in (
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary")}
    return {
        "summary": "CORS preflight (mock integration generated by jsonp2cors)",
        "responses": {"204": {"description": "CORS preflight answer", "headers": headers}},
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "passthroughBehavior": "when_no_match",
            "requestTemplates": {"application/json": '{"statusCode": 204}'},
            "responses": {"default": {
                "statusCode": "204",
                "responseParameters": params,
                "responseTemplates": {"application/json": "\n".join(template)},
            }},
        },
    }


def _apigw_rest(policy: Policy) -> Export:
    paths: dict[str, Any] = {}
    scopes = [(route.path, policy.for_path(route.path).cors) for route in policy.routes]
    if not any(path == "/" for path, _ in scopes):
        scopes.append(("/", policy.cors))
    for path, cors in sorted(scopes, key=lambda s: s[0]):
        op = _rest_operation(cors)
        if path == "/":
            paths["/"] = {"options": op}
            paths["/{proxy+}"] = {"options": op}
        else:
            paths[path] = {"options": op}
            paths[f"{path}/{{proxy+}}"] = {"options": op}
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "CORS preflight for a REST API (jsonp2cors)", "version": "1",
                 "description": "OPTIONS mock integrations answering CORS preflights per [[route]]. The "
                                "responses of the other methods must carry Access-Control-Allow-Origin "
                                "from their own integration."},
        "paths": paths,
    }
    notes = ("import with: aws apigateway put-rest-api --rest-api-id API --mode merge --body fileb://cors.json",
             "REST API: only preflights are answered here; actual responses need CORS headers from their "
             "integration (or the shim)")
    return Export("apigateway", {"cors-openapi.json": json.dumps(doc, indent=2) + "\n"}, (), notes)


def export_apigateway(policy: Policy, *, rest: bool = False, **_: Any) -> Export:
    return _apigw_rest(policy) if rest else _apigw_http(policy)


TARGETS: dict[str, Callable[..., Export]] = {
    "starlette": export_starlette,
    "flask-cors": export_flask,
    "django": export_django,
    "nginx": export_nginx,
    "s3": export_s3,
    "apigateway": export_apigateway,
}


def export(policy: Policy, target: str, *, rest: bool = False, name: str = "cors") -> Export:
    """Export `policy` for `target` (one of TARGETS). Check `.losses` before using the result."""
    try:
        func = TARGETS[target]
    except KeyError:
        raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}") from None
    return func(policy, rest=rest, name=name)
