import datetime

from flask import Blueprint, jsonify

bp = Blueprint("api", __name__)
QUOTES = ["a", "b"]


@bp.route("/quote")
def quote():
    day = datetime.date.today().toordinal()
    return jsonify(QUOTES[day % len(QUOTES)])
