import json

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.route("/api/weather")
def weather():
    data = {"city": "Berlin", "high": 21}
    callback = request.args.get("callback")
    if callback:
        return Response(f"{callback}({json.dumps(data)})", mimetype="application/javascript")
    return jsonify(data)


@app.route("/healthz")
def healthz():
    return {"ok": True}
