import torch
from flask import Flask, jsonify, request
from PIL import Image
from torchvision import transforms

from net import ShapesNet

CLASSES = ["circle", "square", "triangle", "star", "hexagon"]
INDEX_HTML = """<!doctype html>
<html><head><title>Shapes</title></head>
<body><h1>Shapes</h1>
<form action="/predict" method="post" enctype="multipart/form-data">
<input type="file" name="file"><button>Classify</button></form></body></html>
"""

app = Flask(__name__)
model = ShapesNet()
model.load_state_dict(torch.load("model/shapes.pt", map_location="cpu"))
model.eval()
preprocess = transforms.Compose(
    [
        transforms.Resize((64, 64)),
        transforms.ToTensor(),
        transforms.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
    ]
)
served = {"predictions": 0}


def probabilities(upload):
    image = Image.open(upload.stream).convert("RGB")
    batch = preprocess(image).unsqueeze(0)
    with torch.no_grad():
        logits = model(batch)
    served["predictions"] += 1
    return torch.softmax(logits, dim=1)[0]


@app.route("/")
def index():
    return INDEX_HTML


@app.route("/health")
def health():
    return jsonify(status="ok")


@app.route("/stats")
def stats():
    return jsonify(served)


@app.route("/predict", methods=["POST"])
def predict():
    scores = probabilities(request.files["file"])
    best = int(scores.argmax())
    return jsonify(label=CLASSES[best], confidence=round(float(scores[best]), 4))


@app.route("/predict/top3", methods=["POST"])
def predict_top3():
    scores = probabilities(request.files["image"])
    top = torch.topk(scores, 3)
    return jsonify(
        predictions=[
            {"label": CLASSES[int(i)], "score": round(float(p), 4)}
            for p, i in zip(top.values, top.indices)
        ]
    )


@app.route("/about")
def about():
    return "Shapes classifier, five classes.\n", 200, {"Content-Type": "text/plain"}
