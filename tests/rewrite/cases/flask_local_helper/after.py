"""Views returning through a project-local JSONP helper: the helper is rewritten once."""
import json
import re

from flask import Flask, Response

app = Flask(__name__)
CALLBACK_PARAM = "callback"
_SAFE = re.compile(r"^[A-Za-z_$][\w$.]*$")


def jsonp(payload, status=200):
    body = json.dumps(payload, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json")


@app.route("/api/weather")
def weather():
    return jsonp({"city": "Berlin"})


@app.route("/api/quote")
def quote():
    return jsonp({"text": "Carpe diem"})
