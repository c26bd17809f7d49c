import json

from flask import Flask, Response, redirect, request

app = Flask(__name__)


@app.route("/login/callback")
def oauth_callback():
    return redirect(request.args.get("callback", "/"))


@app.route("/config.js")
def config_js():
    return Response("window.CONFIG = %s;" % json.dumps({"a": 1}), mimetype="application/javascript")
