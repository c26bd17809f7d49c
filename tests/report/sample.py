"""Hand-made scan results for the report tests (independent of what the analyzers find)."""

from __future__ import annotations

from jsonp2cors.findings import Consumer, Endpoint, EndpointRef, ScanError, ScanResult, ScanStats


def sample_result(root: str = "/srv/legacy app") -> ScanResult:
    """Every record kind: handler, helper, test code, each consumer kind, a linked consumer, errors."""
    endpoints = (
        Endpoint("app/views.py", 12, "weather", "flask", "/api/weather", ("GET",), ("callback",),
                 recognised_by="format-padding"),
        Endpoint("app/views.py", 40, "ProfileView.get", "django", "/api/[id]/profile", ("GET", "POST"),
                 ("cb", "jsonp"), True, column=5, credentials_reason="reads the session", end_line=52),
        Endpoint("app/helpers.py", 3, "jsonp", "generic", None, (), ("callback",), role="helper",
                 confidence="medium", recognised_by="project-helper"),
        Endpoint("legacy/py2 views.py", 8, "feed", "generic", None, ("GET",), ("jsoncallback",),
                 confidence="low", recognised_by="token-fallback"),
        Endpoint("tests/test_api.py", 20, "fake_jsonp", "generic", None, ("GET",), ("callback",),
                 test_code=True),
    )
    consumers = (
        Consumer("templates/index.html", 30, "script-tag", "https://api.example.com/weather?callback=show",
                 "show", "https://api.example.com", True, "callback",
                 endpoint=EndpointRef("app/views.py", 12), credentials=False),
        Consumer("static/app.js", 7, "jquery-ajax", "/api/[id]/profile", "onProfile", None, True, "jsonp",
                 column=3, endpoint=EndpointRef("app/views.py", 40), credentials=True),
        Consumer("static/app.js", 19, "jquery-getjson", "/api/weather?callback=?", None, None, True,
                 "callback"),
        Consumer("static/ng.js", 4, "angular-jsonp", "https://data.example.org/feed", "JSON_CALLBACK",
                 "https://data.example.org", True, "callback"),
        Consumer("static/map.js", 3, "dynamic-script", "https://maps.googleapis.com/maps/api/js?callback=initMap",
                 "initMap", "https://maps.googleapis.com", False, "callback", detail="Google Maps loader"),
        Consumer("static/lib.js", 11, "other", "{{ api }}/feed", "cb", None, True, detail="fetch-jsonp"),
        Consumer("static/lib.js", 12, "other", "{{ api }}/feed", "cb", None, True, detail="fetch-jsonp"),
    )
    errors = (
        ScanError("legacy/old.py", "Python 2 syntax", 3),
        ScanError("static/bundle.bin.js", "skipped: undecodable bytes"),
    )
    return ScanResult(endpoints, consumers, errors, ScanStats(120, 9, 0.42, 4, 100, 123456), root).sorted()
