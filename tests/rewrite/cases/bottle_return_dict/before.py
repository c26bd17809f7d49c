import json

from bottle import Bottle, request, response

app = Bottle()


@app.get("/api/weather")
def weather():
    data = {"city": "Berlin", "high": 21}
    callback = request.query.callback
    if callback:
        response.content_type = "application/javascript"
        return "%s(%s)" % (callback, json.dumps(data))
    return data


@app.get("/api/cities")
def cities():
    response.content_type = "application/javascript"
    return "%s(%s)" % (request.query.get("callback", "cb"), json.dumps({"cities": ["Berlin"]}))
