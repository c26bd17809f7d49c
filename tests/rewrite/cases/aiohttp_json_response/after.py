from aiohttp import web


async def weather(request):
    data = {"city": "Berlin", "high": 21}
    return web.json_response(data)


async def news(request):
    return web.json_response(["a", "b"], status=200)


app = web.Application()
app.add_routes([web.get("/api/weather", weather), web.get("/api/news", news)])
