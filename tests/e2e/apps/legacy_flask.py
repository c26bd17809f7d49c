"""A legacy Flask API as it looked before the migration: some views pad JSONP by hand, others return JSON.

`/api/weather` still writes `callback(...)` itself (the shim must re-wrap it for JSONP callers and strip it
for CORS callers); `/api/news` already returns plain JSON (the shim wraps it for JSONP callers).
`/api/account` depends on the session cookie, so the policy gives it credentials.
"""

from __future__ import annotations

import json

from flask import Flask, Response, jsonify, request, session

WEATHER = {"city": "Lyon", "temp_c": 21}
NEWS = {"headline": "Bridge reopens after repairs"}

app = Flask(__name__)
app.secret_key = "e2e-only-not-a-secret"
app.config["SESSION_COOKIE_SAMESITE"] = "Lax"


def _legacy_padded(data: object) -> Response:
    """What the old code did: pad with whatever `callback` said (the shim refuses bad names before this)."""
    body = json.dumps(data)
    callback = request.args.get("callback")
    if callback:
        return Response(f"{callback}({body});", mimetype="application/javascript")
    return Response(body, mimetype="application/json")


@app.get("/api/weather")
def weather() -> Response:
    return _legacy_padded(WEATHER)


@app.get("/api/news")
def news() -> Response:
    return jsonify(NEWS)


@app.post("/api/account/login")
def login() -> Response:
    session["user"] = "alice"
    return jsonify({"ok": True})


@app.get("/api/account")
def account() -> Response:
    return jsonify({"user": session.get("user")})


@app.route("/api/items/<int:item_id>", methods=["GET", "DELETE"])
def item(item_id: int) -> Response:
    if request.method == "DELETE":
        return jsonify({"deleted": item_id})
    return jsonify({"id": item_id, "name": f"item {item_id}"})
