"""The finding codes (ruff-style `JP100`) shared by every report format, and one-line messages per finding."""

from __future__ import annotations

from dataclasses import dataclass

from jsonp2cors.findings import Consumer, Endpoint, ScanError


@dataclass(frozen=True)
class Rule:
    """One kind of finding: a stable code, a kebab-case name, and the texts a dashboard shows for it."""

    code: str
    name: str
    summary: str
    description: str
    level: str = "warning"  # SARIF default level: "error" | "warning" | "note"
    tags: tuple[str, ...] = ("jsonp",)


ENDPOINT_HANDLER = Rule(
    "JP100",
    "jsonp-endpoint",
    "Request handler answers with JSONP",
    "This handler wraps its data in a caller-chosen JavaScript function name (JSONP). Any page on any site "
    "can read the response with a <script> tag, cookies included. Serve plain JSON with CORS headers "
    "restricted to the origins that call it, then retire the callback parameter.",
    tags=("jsonp", "security", "cors-migration"),
)
ENDPOINT_HELPER = Rule(
    "JP101",
    "jsonp-padding-helper",
    "Helper, decorator or renderer pads responses as JSONP",
    "This function, decorator, hook or renderer wraps response data in a callback taken from the request. "
    "Every handler that goes through it answers JSONP; migrate it together with those handlers.",
    tags=("jsonp", "security", "cors-migration"),
)
ENDPOINT_TEST_CODE = Rule(
    "JP102",
    "jsonp-endpoint-in-test-code",
    "JSONP endpoint in test code",
    "JSONP padding found in test code. It is not served to users, but tests that expect JSONP responses "
    "must be updated when the endpoints they exercise move to JSON + CORS.",
    level="note",
    tags=("jsonp", "test-code"),
)

_CONSUMER_RULES: dict[str, Rule] = {
    "script-tag": Rule(
        "JP201",
        "jsonp-script-tag",
        "<script src> loads data through JSONP",
        "A <script> element whose URL carries a callback parameter. Replace it with fetch() of the JSON "
        "endpoint once that endpoint sends CORS headers for this page's origin.",
    ),
    "jquery-ajax": Rule(
        "JP202",
        "jsonp-jquery-ajax",
        "jQuery $.ajax call with dataType jsonp",
        "A jQuery ajax call that requests JSONP (dataType 'jsonp', or a '=?' placeholder jQuery turns into "
        "JSONP). Switch it to dataType 'json' (or fetch()) once the endpoint sends CORS headers.",
    ),
    "jquery-getjson": Rule(
        "JP203",
        "jsonp-jquery-getjson",
        "jQuery $.getJSON with a callback=? placeholder",
        "$.getJSON or $.ajax with 'callback=?' in the URL silently becomes a JSONP request. Drop the "
        "placeholder once the endpoint sends CORS headers.",
    ),
    "angular-jsonp": Rule(
        "JP204",
        "jsonp-angularjs",
        "AngularJS $http.jsonp or JSONP $resource action",
        "AngularJS loads data through JSONP ($http.jsonp, a $resource action with method JSONP). Use "
        "$http.get once the endpoint sends CORS headers.",
    ),
    "dynamic-script": Rule(
        "JP205",
        "jsonp-dynamic-script",
        "Script element created in code to load JSONP",
        "Code creates a <script> element whose URL carries a callback parameter, or pairs one with a global "
        "callback function. Replace it with fetch() once the endpoint sends CORS headers.",
    ),
    "other": Rule(
        "JP206",
        "jsonp-library-call",
        "JSONP helper library call",
        "A JSONP helper library (npm jsonp, fetch-jsonp, Dojo, YUI, MooTools, Ext JS, or a project-local "
        "wrapper) loads data through a script tag. Replace it with fetch() once the endpoint sends CORS "
        "headers.",
    ),
}
CONSUMER_UNKNOWN = Rule(
    "JP299",
    "jsonp-consumer",
    "JSONP consumer",
    "A page or script loads data through JSONP.",
)
SCAN_ERROR = Rule(
    "JP900",
    "scan-error",
    "File could not be fully scanned",
    "The scanner could not read or parse this file completely (Python 2 syntax, bad encoding, binary data, "
    "a huge generated file, ...). JSONP in it may be missed or reported with lower confidence.",
    tags=("scan",),
)

#: Every result rule, in the stable order reports list them (SARIF ruleIndex follows this order).
RULES: tuple[Rule, ...] = (
    ENDPOINT_HANDLER,
    ENDPOINT_HELPER,
    ENDPOINT_TEST_CODE,
    *_CONSUMER_RULES.values(),
    CONSUMER_UNKNOWN,
)


def endpoint_rule(endpoint: Endpoint) -> Rule:
    if endpoint.test_code:
        return ENDPOINT_TEST_CODE
    return ENDPOINT_HELPER if endpoint.role == "helper" else ENDPOINT_HANDLER


def consumer_rule(consumer: Consumer) -> Rule:
    return _CONSUMER_RULES.get(consumer.kind, CONSUMER_UNKNOWN)


def endpoint_message(endpoint: Endpoint) -> str:
    """One line: what the endpoint is, where it is routed and what it needs after migration."""
    what = "JSONP padding helper" if endpoint.role == "helper" else "JSONP endpoint"
    parts = [endpoint.framework]
    if endpoint.route or (endpoint.methods and endpoint.role != "helper"):  # a helper's methods say little
        parts.append(" ".join(x for x in (",".join(endpoint.methods), endpoint.route or "") if x))
    if endpoint.callback_params:
        parts.append("callback param " + ", ".join(endpoint.callback_params))
    if endpoint.credentials:
        reason = endpoint.credentials_reason
        parts.append("credentials" + (f" ({reason})" if reason else ""))
    if endpoint.confidence != "high":
        parts.append(f"{endpoint.confidence} confidence")
    if endpoint.test_code:
        parts.append("test code")
    return f"{what} `{endpoint.function}` [{'; '.join(parts)}]"


def consumer_message(consumer: Consumer) -> str:
    """One line: how the consumer loads JSONP, from where, and whether the rewrite will touch it."""
    text = f"JSONP consumer ({consumer.kind})"
    if consumer.url:
        text += f" {consumer.url}"
    details: list[str] = []
    if consumer.callback:
        details.append(f"callback {consumer.callback}")
    if consumer.callback_param:
        details.append(f"param {consumer.callback_param}")
    if consumer.target:
        details.append(f"target {consumer.target}")
    if consumer.endpoint is not None:
        credentials = " (with credentials)" if consumer.credentials else ""
        details.append(f"calls {consumer.endpoint.file}:{consumer.endpoint.line}{credentials}")
    if not consumer.migratable:
        details.append("script loader, not data: left alone")
    if consumer.detail:
        details.append(consumer.detail)
    if consumer.test_code:
        details.append("test code")
    return text + (f" [{'; '.join(details)}]" if details else "")


def error_message(error: ScanError) -> str:
    return f"scan error: {error.message}"
