import torch
from fastapi import APIRouter, File, HTTPException, UploadFile
from PIL import UnidentifiedImageError

from ..model import get_model
from ..preprocessing import load_image, transform
from ..settings import LABELS, TOP_K

router = APIRouter(prefix="/v1")


@router.post("/classify")
async def classify(file: UploadFile = File(...)):
    data = await file.read()
    try:
        image = load_image(data)
    except UnidentifiedImageError:
        raise HTTPException(status_code=415, detail="not an image")
    batch = transform(image).unsqueeze(0)
    with torch.no_grad():
        probs = torch.softmax(get_model()(batch), dim=1)[0]
    top = torch.topk(probs, k=TOP_K)
    return {
        "predictions": [
            {"label": LABELS[i], "score": round(float(s), 5)}
            for s, i in zip(top.values.tolist(), top.indices.tolist())
        ]
    }
