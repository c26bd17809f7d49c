from pyramid.view import view_config


@view_config(route_name="weather", renderer="jsonp")
def weather(request):
    return {"city": "Berlin", "high": 21}


@view_config(route_name="home", renderer="string")
def home(request):
    return "hello"
