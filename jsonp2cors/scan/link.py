"""Links consumers to the endpoints they call (by URL path vs. route). Placeholder until issue 3 lands."""

from __future__ import annotations

from collections.abc import Sequence

from jsonp2cors.findings import Consumer, Endpoint


def link_consumers(endpoints: Sequence[Endpoint], consumers: Sequence[Consumer]) -> tuple[Consumer, ...]:
    """Return the consumers with `endpoint` (and `credentials`) filled in where a route matches."""
    return tuple(consumers)
