import json

import falcon


class WeatherResource:
    def on_get(self, req, resp):
        data = {"city": "Berlin", "high": 21}
        callback = req.get_param("callback") or "callback"
        resp.content_type = "application/javascript"
        resp.text = "%s(%s)" % (callback, json.dumps(data))


app = falcon.App()
app.add_route("/api/weather", WeatherResource())
