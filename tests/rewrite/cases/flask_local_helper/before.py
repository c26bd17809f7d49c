"""Views returning through a project-local JSONP helper: the helper is rewritten once."""
import json
import re

from flask import Flask, Response, request

app = Flask(__name__)
CALLBACK_PARAM = "callback"
_SAFE = re.compile(r"^[A-Za-z_$][\w$.]*$")


def jsonp(payload, status=200):
    body = json.dumps(payload, separators=(",", ":"))
    callback = request.args.get(CALLBACK_PARAM)
    if callback and _SAFE.match(callback):
        return Response(callback + "(" + body + ");", status=status, mimetype="application/javascript")
    return Response(body, status=status, mimetype="application/json")


@app.route("/api/weather")
def weather():
    return jsonp({"city": "Berlin"})


@app.route("/api/quote")
def quote():
    return jsonp({"text": "Carpe diem"})
