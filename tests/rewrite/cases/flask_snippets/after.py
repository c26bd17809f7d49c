"""Shapes of the Flask JSONP snippets that circulated around 2012: a jsonify override, two decorators,
.format padding, and a hand-built reply the rewrite must leave alone."""
import json
from functools import wraps
from json import dumps
from flask import Flask, Response, request, jsonify as flask_jsonify

app = Flask(__name__)


def jsonify(obj, status=200, headers=None):
    jsondata = json.dumps(obj)
    return Response(jsondata, headers=headers, status=status, mimetype='application/json')


def jsonp(func):
    @wraps(func)
    def decorated_function(*args, **kwargs):
        return func(*args, **kwargs)
    return decorated_function


def support_jsonp(f):
    @wraps(f)
    def decorated_function(*args, **kwargs):
        return dumps(f(*args, **kwargs))
    return decorated_function


@app.route('/json-data/')
def json_data():
    nitems = request.args.get('nitems', 2)
    data = json.dumps({"n": nitems})
    return Response(data, mimetype="application/json")


@app.route('/data')
def data():
    cb = request.args.get('callback')
    print(cb)
    return cb + "('bye')"
