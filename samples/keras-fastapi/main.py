"""MobileNetV2 image classifier served with FastAPI.

    uvicorn main:app --host 0.0.0.0 --port 8000
    curl -F file=@cat.jpg http://localhost:8000/predict
"""

import io

import numpy as np
import tensorflow as tf
import uvicorn
from fastapi import FastAPI, File, HTTPException, UploadFile
from PIL import Image, UnidentifiedImageError
from tensorflow.keras.applications.mobilenet_v2 import preprocess_input

MODEL_PATH = "model/mobilenet_v2.keras"
INPUT_SIZE = (160, 160)
CLASS_NAMES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]

model = tf.keras.models.load_model(MODEL_PATH)

app = FastAPI(title="flower classifier")


def load_image(data: bytes) -> np.ndarray:
    """Decode an uploaded image into a preprocessed 1x160x160x3 float32 batch."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize(INPUT_SIZE, Image.BILINEAR)
    x = np.asarray(image, dtype=np.float32)
    x = np.expand_dims(x, axis=0)
    x = preprocess_input(x)  # scales pixels to [-1, 1]
    return x


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/predict")
async def predict(file: UploadFile = File(...)) -> dict:
    data = await file.read()
    try:
        x = load_image(data)
    except UnidentifiedImageError as exc:
        raise HTTPException(status_code=400, detail="not a readable image") from exc

    logits = model(x, training=False)
    probs = tf.nn.softmax(logits).numpy()
    class_id = int(np.argmax(probs, axis=-1)[0])

    return {
        "filename": file.filename,
        "label": CLASS_NAMES[class_id],
        "class_id": class_id,
        "score": float(probs[0, class_id]),
        "probabilities": {name: float(p) for name, p in zip(CLASS_NAMES, probs[0])},
    }


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8000)
