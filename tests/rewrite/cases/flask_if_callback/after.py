from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/api/weather")
def weather():
    data = {"city": "Berlin", "high": 21}
    return jsonify(data)


@app.route("/healthz")
def healthz():
    return {"ok": True}
