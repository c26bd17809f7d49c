import json
from urllib.parse import parse_qs


def application(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    body = json.dumps({"city": "Berlin", "high": 21})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode("utf-8")]
