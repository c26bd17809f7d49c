import json

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.route("/api/feed")
def feed():
    callback = request.args.get("callback")
    body = json.dumps({"items": []})
    if len(callback or "") > 3 and callback.startswith("jQuery"):
        return Response(callback + "(" + body + ")", mimetype="application/javascript")
    return Response(body, mimetype="application/json")


@app.route("/api/log")
def log_feed():
    cb = request.args.get("callback")
    app.logger.info("JSONP call from %s", cb)
    return jsonify([])


@app.route("/api/loader")
def loader():
    cb = request.args.get("callback")
    return Response("%s(%s); window.loaded = true;" % (cb, json.dumps([1])), mimetype="application/javascript")
