import json

import cherrypy


class Api:
    @cherrypy.expose
    def weather(self, city="berlin", callback=None):
        data = {"city": city.title(), "high": 21}
        cherrypy.response.headers["Content-Type"] = "application/javascript"
        return "%s(%s)" % (callback or "callback", json.dumps(data))
