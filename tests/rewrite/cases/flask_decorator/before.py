from functools import wraps

from flask import Flask, current_app, jsonify, request

app = Flask(__name__)


def support_jsonp(f):
    """Wraps JSONified output for JSONP (the classic snippet)."""
    @wraps(f)
    def decorated_function(*args, **kwargs):
        callback = request.args.get("callback", False)
        if callback:
            content = str(callback) + "(" + str(f(*args, **kwargs).data.decode()) + ")"
            return current_app.response_class(content, mimetype="application/javascript")
        else:
            return f(*args, **kwargs)
    return decorated_function


@app.route("/api/user")
@support_jsonp
def user():
    return jsonify(name="ada")
