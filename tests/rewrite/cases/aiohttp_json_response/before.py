import json

from aiohttp import web


async def weather(request):
    data = {"city": "Berlin", "high": 21}
    callback = request.query.get("callback")
    if callback is not None:
        return web.Response(text=f"{callback}({json.dumps(data)})", content_type="application/javascript")
    return web.json_response(data)


async def news(request):
    cb = request.query.get("callback", "cb")
    return web.Response(text=cb + "(" + json.dumps(["a", "b"]) + ")", content_type="text/javascript", status=200)


app = web.Application()
app.add_routes([web.get("/api/weather", weather), web.get("/api/news", news)])
