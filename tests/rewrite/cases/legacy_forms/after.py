"""Older JSONP forms: webapp2, request.REQUEST, a required callback, a media type constant, tuple returns."""
import json
import re

import webapp2
from django.core import serializers
from django.http import HttpResponse, JsonResponse
from flask import Flask, Response, jsonify

JSONP_MIME = "application/javascript"
VALID = re.compile(r"^[a-zA-Z_$][0-9a-zA-Z_$]*$")
app = Flask(__name__)


class ApiHandler(webapp2.RequestHandler):
    def get(self):
        result = {"items": [1, 2]}
        self.response.headers["Content-Type"] = "application/json"
        self.response.out.write(json.dumps(result))


def legacy(req):
    data = serializers.serialize("json", [])
    return HttpResponse(data, "application/json")


def required(req):
    return JsonResponse([1], safe=False)


@app.route("/a")
def a():
    return Response(json.dumps([1]), mimetype="application/json")


@app.route("/b")
def b():
    return json.dumps({"a": 1}), 200, {"Content-Type": "application/json; charset=utf-8"}


@app.route("/c")
def c():
    resp = jsonify({"a": 1})
    resp.headers["Content-Type"] = "application/json"
    return resp
