import datetime

from flask import Blueprint
from flask_jsonpify import jsonify as jsonpify

bp = Blueprint("api", __name__)
QUOTES = ["a", "b"]


@bp.route("/quote")
def quote():
    day = datetime.date.today().toordinal()
    return jsonpify(QUOTES[day % len(QUOTES)])
