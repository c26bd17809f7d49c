from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/api/news")
def news():
    items = [{"title": "Heatwave"}, {"title": "Bike lanes"}]
    return jsonify(items)
