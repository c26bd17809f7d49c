import tornado.web


class WeatherHandler(tornado.web.RequestHandler):
    def get(self):
        data = {"city": "Berlin", "high": 21}
        self.write(data)


def make_app():
    return tornado.web.Application([(r"/api/weather", WeatherHandler)])
