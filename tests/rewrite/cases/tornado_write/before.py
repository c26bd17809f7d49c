import json

import tornado.web


class WeatherHandler(tornado.web.RequestHandler):
    def get(self):
        data = {"city": "Berlin", "high": 21}
        callback = self.get_argument("callback", None)
        self.set_header("Content-Type", "application/javascript")
        self.write("%s(%s)" % (callback, json.dumps(data)))


def make_app():
    return tornado.web.Application([(r"/api/weather", WeatherHandler)])
