import json
from urllib.parse import parse_qs


def application(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    callback = query.get("callback", [None])[0]
    body = json.dumps({"city": "Berlin", "high": 21})
    if callback:
        body = "%s(%s)" % (callback, body)
        start_response("200 OK", [("Content-Type", "application/javascript")])
    else:
        start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode("utf-8")]
