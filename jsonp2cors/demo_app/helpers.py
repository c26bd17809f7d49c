"""The JSONP helper every public view returns through."""
import json

from flask import Response, request


def jsonp(payload):
    """Serialise `payload`; wrap it in the caller's callback when there is one."""
    callback = request.args.get("callback")
    body = json.dumps(payload)
    if callback:
        return Response("%s(%s)" % (callback, body), mimetype="application/javascript")
    return Response(body, mimetype="application/json")
