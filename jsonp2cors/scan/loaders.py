"""The one table of third-party script loaders whose `callback=`/`onload=` runs code, not data.

Such a URL looks like JSONP but loads an SDK; the scan still lists it (so nobody is surprised) with
`migratable: false`, and the rewrite leaves it alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loader:
    """A known SDK loader: hosts (exact or `*.suffix`), path prefix, the query keys naming its init hook."""

    name: str
    hosts: tuple[str, ...]
    path_prefix: str
    params: tuple[str, ...]  # the query keys whose value is a global init function
    globals: tuple[str, ...] = ()  # init hooks the SDK calls by a fixed global name (no query key)


LOADERS: tuple[Loader, ...] = (
    Loader("Google Maps JavaScript API", ("maps.googleapis.com", "maps.google.com"), "/maps/api/js",
           ("callback",)),
    Loader("reCAPTCHA", ("www.google.com", "www.recaptcha.net", "recaptcha.net"), "/recaptcha/",
           ("onload",)),
    Loader("hCaptcha", ("js.hcaptcha.com", "hcaptcha.com"), "/1/api.js", ("onload",)),
    Loader("Cloudflare Turnstile", ("challenges.cloudflare.com",), "/turnstile/", ("onload",)),
    Loader("Google API client", ("apis.google.com",), "/js/", ("onload", "callback")),
    Loader("Google Loader (jsapi)", ("www.google.com",), "/jsapi", ("callback",)),
    Loader("Google Identity Services", ("accounts.google.com",), "/gsi/", ("onload",)),
    Loader("Google Translate element", ("translate.google.com",), "/translate_a/element.js", ("cb",)),
    Loader("Facebook SDK", ("connect.facebook.net",), "/", ("callback",), ("fbAsyncInit",)),
    Loader("Twitter widgets", ("platform.twitter.com",), "/widgets.js", ("callback",), ("twttr",)),
    Loader("YouTube IFrame API", ("www.youtube.com", "youtube.com"), "/iframe_api", (),
           ("onYouTubeIframeAPIReady",)),
    Loader("Bing Maps", ("www.bing.com",), "/api/maps/mapcontrol", ("callback",)),
    Loader("Yandex Maps", ("api-maps.yandex.ru", "enterprise.api-maps.yandex.ru"), "/", ("onload",)),
    Loader("Baidu Maps", ("api.map.baidu.com",), "/", ("callback",)),
    Loader("AMap", ("webapi.amap.com",), "/maps", ("callback",)),
    Loader("HERE Maps", ("js.api.here.com",), "/", ("callback",)),
    Loader("Windows Live SDK", ("js.live.net",), "/", ("onload",)),
)


def _host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in patterns)


def find_loader(host: str | None, path: str) -> Loader | None:
    """The loader serving `host` + `path` (host lower-case, no port), or None."""
    if not host:
        return None
    for loader in LOADERS:
        if _host_matches(host, loader.hosts) and path.startswith(loader.path_prefix):
            return loader
    return None


def loader_for_global(name: str) -> Loader | None:
    """The loader whose SDK calls a fixed global `name` (e.g. `fbAsyncInit`), or None."""
    for loader in LOADERS:
        if name in loader.globals:
            return loader
    return None
