import os

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)
TORCHSERVE = os.environ.get("TORCHSERVE_URL", "http://torchserve:8080")


@app.route("/digit", methods=["POST"])
def digit():
    upload = request.files["image"]
    answer = requests.post(f"{TORCHSERVE}/predictions/digits", files={"data": upload.read()})
    return jsonify(answer.json()), answer.status_code
