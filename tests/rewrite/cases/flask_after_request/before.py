from flask import Blueprint, jsonify, request

bp = Blueprint("widgets", __name__)


@bp.after_request
def pad_for_jsonp(response):
    callback = request.args.get("cb")
    if callback and response.mimetype == "application/json":
        body = response.get_data(as_text=True)
        response.set_data("{0}({1})".format(callback, body))
        response.mimetype = "application/javascript"
    return response


@bp.route("/widgets/cities")
def cities():
    return jsonify(cities=["Berlin", "Paris"])
