"""Acme Weather's partner API (2012 vintage): every endpoint answers JSONP for the partner pages.

Run it with `flask --app app run` from this folder, or through `jsonp2cors demo --serve`.
"""
import json
import os

from flask import Flask, Response, jsonify, request, session

from helpers import jsonp

app = Flask(__name__)
app.secret_key = os.environ.get("DEMO_SECRET_KEY", "demo-only-secret")

FORECASTS = {
    "berlin": {"city": "Berlin", "high": 21, "low": 12, "sky": "cloudy"},
    "paris": {"city": "Paris", "high": 24, "low": 15, "sky": "sunny"},
}
HEADLINES = [
    "Heatwave expected by the weekend",
    "City council approves new bike lanes",
    "Local bakery wins national award",
    "Storm warning lifted for the coast",
]
QUOTES = [
    {"text": "There is no such thing as bad weather, only unsuitable clothing.", "author": "Alfred Wainwright"},
]


@app.route("/")
def home():
    return "<h1>Acme Weather API</h1><p>See /api/weather, /api/news, /api/quote, /api/profile.</p>"


@app.route("/api/weather")
def weather():
    city = request.args.get("city", "berlin").lower()
    return jsonp(FORECASTS.get(city, FORECASTS["berlin"]))


@app.route("/api/quote")
def quote():
    return jsonp(QUOTES[0])


@app.route("/api/news")
def news():
    callback = request.args.get("callback")
    limit = int(request.args.get("limit", "3"))
    items = {"headlines": HEADLINES[:limit]}
    if callback:
        return Response("%s(%s);" % (callback, json.dumps(items)), mimetype="application/javascript")
    return jsonify(items)


@app.route("/api/profile")
def profile():
    # Partners show the signed-in reader's name, so this one reads the session cookie.
    user = session.get("user", "guest")
    cb = request.args.get("callback", "callback")
    body = json.dumps({"user": user, "plan": "pro" if user != "guest" else "free"})
    return Response(cb + "(" + body + ")", mimetype="text/javascript")


@app.route("/login")
def login():
    session["user"] = request.args.get("name", "ada")
    return jsonify(ok=True, user=session["user"])


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
