import cherrypy


class Api:
    @cherrypy.expose
    @cherrypy.tools.json_out()
    def weather(self, city="berlin", callback=None):
        data = {"city": city.title(), "high": 21}
        return data
