"""Sentiment classifier: a small BERT sequence classifier behind FastAPI.

    uvicorn serve:app --port 8000
    curl -H 'content-type: application/json' -d '{"text": "great service"}' \
        http://localhost:8000/classify
"""

import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from transformers import AutoModelForSequenceClassification, AutoTokenizer

MODEL_DIR = "./model"
MAX_LENGTH = 64

tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
model = AutoModelForSequenceClassification.from_pretrained(MODEL_DIR)
model.eval()

app = FastAPI(title="sentiment classifier")


class ClassifyRequest(BaseModel):
    text: str = Field(..., min_length=1, max_length=10_000)


class ClassifyResponse(BaseModel):
    label: str
    score: float
    scores: dict[str, float]


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/classify", response_model=ClassifyResponse)
def classify(req: ClassifyRequest) -> ClassifyResponse:
    inputs = tokenizer(
        req.text,
        max_length=MAX_LENGTH,
        padding="max_length",
        truncation=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        outputs = model(**inputs)
    probs = torch.softmax(outputs.logits, dim=-1)[0]
    label_id = int(torch.argmax(probs).item())

    id2label = model.config.id2label
    return ClassifyResponse(
        label=id2label[label_id],
        score=float(probs[label_id]),
        scores={id2label[i]: float(p) for i, p in enumerate(probs.tolist())},
    )


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8000)
