import falcon


class WeatherResource:
    def on_get(self, req, resp):
        data = {"city": "Berlin", "high": 21}
        resp.media = data


app = falcon.App()
app.add_route("/api/weather", WeatherResource())
