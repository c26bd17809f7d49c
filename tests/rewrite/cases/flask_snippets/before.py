"""Shapes of the Flask JSONP snippets that circulated around 2012: a jsonify override, two decorators,
.format padding, and a hand-built reply the rewrite must leave alone."""
import json
from functools import wraps
from json import dumps
from flask import Flask, Response, request, current_app, jsonify as flask_jsonify

app = Flask(__name__)


def jsonify(obj, status=200, headers=None):
    jsondata = json.dumps(obj)
    if 'callback' in request.args:
        jsondata = '%s(%s)' % (request.args.get('callback'), jsondata)
    return Response(jsondata, headers=headers, status=status, mimetype='application/json')


def jsonp(func):
    @wraps(func)
    def decorated_function(*args, **kwargs):
        callback = request.args.get('callback', False)
        if callback:
            data = str(func(*args, **kwargs)[0].data)
            content = str(callback) + '(' + data + ')'
            mimetype = 'application/javascript'
            return current_app.response_class(content, mimetype=mimetype), func(*args, **kwargs)[1]
        else:
            return func(*args, **kwargs)
    return decorated_function


def support_jsonp(f):
    @wraps(f)
    def decorated_function(*args, **kwargs):
        callback = request.args.get('callback', False)
        if callback:
            content = str(callback) + '(' + dumps(f(*args, **kwargs)) + ')'
            return current_app.response_class(content, mimetype='application/json')
        else:
            return dumps(f(*args, **kwargs))
    return decorated_function


@app.route('/json-data/')
def json_data():
    nitems = request.args.get('nitems', 2)
    data = json.dumps({"n": nitems})
    callback = request.args.get('callback')
    return '{0}({1})'.format(callback, data)


@app.route('/data')
def data():
    cb = request.args.get('callback')
    print(cb)
    return cb + "('bye')"
