from flask import Flask
from flask_json import FlaskJSON, as_json_p, json_response

app = Flask(__name__)
FlaskJSON(app)


@app.route("/api/price")
@as_json_p
def price():
    return dict(symbol="ACME", value=12.5)


@app.route("/api/volume")
@as_json_p(callbacks=["cb", "jsoncallback"], optional=True)
def volume():
    return dict(symbol="ACME", volume=1200), 200


@app.route("/api/status")
def status():
    return json_response(ok=True)
