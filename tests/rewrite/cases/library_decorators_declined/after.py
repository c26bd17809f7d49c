from bottle import route
from bottle_jsonp import jsonp as bottle_jsonp
from djsonp import jsonp


@jsonp
def plain(request):
    return {"a": 1}


@route("/items")
@bottle_jsonp
def items():
    return {"a": 1}
