from pathlib import Path

import torch
from flask import Flask, jsonify, request
from PIL import Image, ImageOps
from torchvision import transforms

from net import DigitNet

MODEL_FILE = Path(__file__).resolve().parent.parent / "model" / "digits.pt"

app = Flask(__name__)
model = DigitNet()
model.load_state_dict(torch.load(MODEL_FILE, map_location="cpu", weights_only=True))
model.eval()

to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])


@app.route("/health")
def health():
    return "ok"


@app.route("/digit", methods=["POST"])
def digit():
    image = Image.open(request.files["image"])
    image = ImageOps.fit(image, (48, 48), Image.Resampling.LANCZOS)
    image = image.convert("L")
    with torch.no_grad():
        scores = model(to_input(image).unsqueeze(0))[0]
    return jsonify(digit=int(scores.argmax()), scores=scores.tolist())


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
