import json

from flask import Flask, Response, request

app = Flask(__name__)


@app.route("/api/news")
def news():
    cb = request.args.get("callback", "callback")  # old partners never sent one
    items = [{"title": "Heatwave"}, {"title": "Bike lanes"}]
    return Response("%s(%s);" % (cb, json.dumps(items)), mimetype="text/javascript")
