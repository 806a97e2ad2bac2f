import io

import torch
import torchvision
from fastapi import FastAPI, File, UploadFile
from PIL import Image
from torchvision import transforms

MODEL_FILE = "model/squeeze.pt"
LABELS_FILE = "labels.txt"

app = FastAPI()
with open(LABELS_FILE, encoding="utf-8") as f:
    labels = [line.strip() for line in f if line.strip()]
net = torchvision.models.squeezenet1_1(weights=None, num_classes=len(labels))
net.load_state_dict(torch.load(MODEL_FILE, map_location="cpu", weights_only=True))
net.eval()
preprocess = transforms.Compose(
    [transforms.Resize(170), transforms.CenterCrop(150), transforms.ToTensor()]
)


@app.post("/predict")
async def predict(file: UploadFile = File(...)):
    image = Image.open(io.BytesIO(await file.read())).convert("RGB")
    with torch.no_grad():
        scores = net(preprocess(image).unsqueeze(0))[0]
    best = int(scores.argmax())
    return {"label": labels[best], "score": float(scores[best])}
