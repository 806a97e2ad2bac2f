"""Digits drawn on a 28x28 pad: the pad posts its canvas as a data URL in JSON
(`{"image": "data:image/png;base64,..."}`), white ink on black, and gets the digit and the
ten scores. The drawing goes to the model as the pad made it: its own channels (a grayscale
PNG), no resize, inverted."""

import base64
import io

import numpy as np
import torch
from flask import Flask, jsonify, request
from PIL import Image
from torchvision import transforms

from net import DigitMLP

app = Flask(__name__)
model = DigitMLP()
model.load_state_dict(torch.load("model/mlp.pt", weights_only=True))
model.eval()
to_tensor = transforms.ToTensor()


@app.route("/classify", methods=["POST"])
def classify():
    drawing = request.get_json()["image"].split(",")[1]
    image = Image.open(io.BytesIO(base64.b64decode(drawing)))
    batch = (1 - to_tensor(image)).unsqueeze(0)
    with torch.no_grad():
        scores = model(batch)
    return jsonify({"digit": int(np.argmax(scores[0].numpy())), "scores": scores[0].tolist()})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
