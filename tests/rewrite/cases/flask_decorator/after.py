from functools import wraps

from flask import Flask, jsonify

app = Flask(__name__)


def support_jsonp(f):
    """Wraps JSONified output for JSONP (the classic snippet)."""
    @wraps(f)
    def decorated_function(*args, **kwargs):
        return f(*args, **kwargs)
    return decorated_function


@app.route("/api/user")
@support_jsonp
def user():
    return jsonify(name="ada")
