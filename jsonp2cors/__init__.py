"""jsonp2cors: find JSONP endpoints and consumers, write the CORS policy, rewrite the code, shim the transition.

The public API is imported lazily so that `import jsonp2cors` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["ASGIShim", "Policy", "WSGIShim", "__version__", "scan"]

if TYPE_CHECKING:
    from jsonp2cors.policy import Policy
    from jsonp2cors.scan import scan
    from jsonp2cors.shim import ASGIShim, WSGIShim

_LAZY = {
    "scan": "jsonp2cors.scan",
    "Policy": "jsonp2cors.policy",
    "ASGIShim": "jsonp2cors.shim",
    "WSGIShim": "jsonp2cors.shim",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jsonp2cors' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
