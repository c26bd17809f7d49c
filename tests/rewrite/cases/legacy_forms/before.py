"""Older JSONP forms: webapp2, request.REQUEST, a required callback, a media type constant, tuple returns."""
import json
import re

import webapp2
from django.core import serializers
from django.http import HttpResponse
from flask import Flask, Response, make_response, request

JSONP_MIME = "application/javascript"
VALID = re.compile(r"^[a-zA-Z_$][0-9a-zA-Z_$]*$")
app = Flask(__name__)


class ApiHandler(webapp2.RequestHandler):
    def get(self):
        callback = self.request.get("callback")
        result = {"items": [1, 2]}
        if callback and VALID.match(callback):
            self.response.headers["Content-Type"] = "application/javascript"
            self.response.out.write("%s(%s)" % (callback, json.dumps(result)))
        else:
            self.response.headers["Content-Type"] = "application/json"
            self.response.out.write(json.dumps(result))


def legacy(req):
    data = serializers.serialize("json", [])
    if "callback" in req.REQUEST:
        data = "%s(%s);" % (req.REQUEST["callback"], data)
        return HttpResponse(data, "text/javascript")
    return HttpResponse(data, "application/json")


def required(req):
    cb = req.GET.get("callback")
    if not cb:
        return HttpResponse("callback required", status=400)
    if not VALID.match(cb):
        return HttpResponse("bad callback", status=400)
    return HttpResponse("%s(%s)" % (cb, json.dumps([1])), content_type="application/javascript")


@app.route("/a")
def a():
    cb = request.args["callback"]
    return Response(cb + "(" + json.dumps([1]) + ")", mimetype=JSONP_MIME)


@app.route("/b")
def b():
    callback = request.args.get("callback", "cb")
    return "%s(%s)" % (callback, json.dumps({"a": 1})), 200, {"Content-Type": "application/javascript; charset=utf-8"}


@app.route("/c")
def c():
    callback = request.args.get("callback")
    if not callback:
        return {"error": "callback required"}, 400
    resp = make_response("%s(%s)" % (callback, json.dumps({"a": 1})))
    resp.headers["Content-Type"] = "text/javascript"
    return resp
