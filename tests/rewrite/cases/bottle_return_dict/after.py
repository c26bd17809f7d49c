from bottle import Bottle

app = Bottle()


@app.get("/api/weather")
def weather():
    data = {"city": "Berlin", "high": 21}
    return data


@app.get("/api/cities")
def cities():
    return {"cities": ["Berlin"]}
