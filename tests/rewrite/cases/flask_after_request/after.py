from flask import Blueprint, jsonify

bp = Blueprint("widgets", __name__)


@bp.after_request
def pad_for_jsonp(response):
    return response


@bp.route("/widgets/cities")
def cities():
    return jsonify(cities=["Berlin", "Paris"])
