"""The transition shim: hardened JSONP for old callers and policy-driven CORS for new ones, side by side.

`ASGIShim` and `WSGIShim` are imported lazily so that reading usage records needs no web machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ASGIShim", "WSGIShim"]

if TYPE_CHECKING:
    from jsonp2cors.shim.asgi import ASGIShim
    from jsonp2cors.shim.wsgi import WSGIShim

_LAZY = {"ASGIShim": "jsonp2cors.shim.asgi", "WSGIShim": "jsonp2cors.shim.wsgi"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jsonp2cors.shim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
