"""An unlinked consumer takes its fetch() credentials mode from the policy route its URL falls under."""

from __future__ import annotations

from pathlib import Path

from jsonp2cors.findings import Consumer, ScanResult
from jsonp2cors.policy import Policy
from jsonp2cors.rewrite import plan

POLICY = """
version = 1
[cors]
allow_origins = ["https://news.example.com"]
[[route]]
path = "/api/account"
allow_credentials = true
[[route]]
path = "/api/weather"
allow_credentials = false
"""

PAGE = """<!doctype html>
<html><body>
<script src="https://api.example.com/api/account/me?callback=showAccount"></script>
<script src="https://api.example.com/api/weather?callback=showWeather"></script>
<script src="https://api.example.com/api/other?callback=showOther"></script>
</body></html>
"""


def _consumers() -> tuple[Consumer, ...]:
    urls = {3: ("api/account/me", "showAccount"), 4: ("api/weather", "showWeather"), 5: ("api/other", "showOther")}
    return tuple(
        Consumer(file="index.html", line=line, kind="script-tag", url=f"https://api.example.com/{path}?callback={cb}",
                 callback=cb, target="https://api.example.com", callback_param="callback", column=1)
        for line, (path, cb) in urls.items()
    )


def _after(tmp_path: Path, policy: Policy | None) -> str:
    (tmp_path / "index.html").write_text(PAGE)
    result = ScanResult(consumers=_consumers())
    edits = plan(result, tmp_path, policy).edits
    assert len(edits) == 1
    return edits[0].after.decode()


def test_policy_route_decides_credentials_for_unlinked_consumers(tmp_path: Path) -> None:
    after = _after(tmp_path, Policy.from_toml(POLICY))
    account = next(line for line in after.splitlines() if "/api/account/me" in line)
    weather = next(line for line in after.splitlines() if "/api/weather" in line)
    other = next(line for line in after.splitlines() if "/api/other" in line)
    assert 'credentials: "include"' in account
    assert 'credentials: "same-origin"' in weather
    assert 'credentials: "same-origin"' in other  # no route: unknown, the safe default


def test_without_a_policy_unlinked_consumers_stay_same_origin(tmp_path: Path) -> None:
    after = _after(tmp_path, None)
    account = next(line for line in after.splitlines() if "/api/account/me" in line)
    assert 'credentials: "same-origin"' in account
