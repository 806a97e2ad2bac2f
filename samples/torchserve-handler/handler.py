"""TorchServe handler for a TorchScript image classifier.

Packaged into a .mar archive together with model.pt and index_to_name.json
(see README.md); TorchServe calls initialize() once per worker and then
preprocess -> inference -> postprocess for every batch of requests.
"""

import base64
import io
import json
import logging
import os

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms
from ts.torch_handler.base_handler import BaseHandler

logger = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
LABELS_FILE = "index_to_name.json"
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class ImageClassifierHandler(BaseHandler):
    def __init__(self):
        super().__init__()
        self.transform = transforms.Compose(
            [
                transforms.Resize((224, 224)),
                transforms.ToTensor(),
                transforms.Normalize(MEAN, STD),
            ]
        )
        self.index_to_name = {}

    def initialize(self, context):
        properties = context.system_properties
        model_dir = properties.get("model_dir")
        self.device = torch.device("cpu")

        model_path = os.path.join(model_dir, MODEL_FILE)
        if not os.path.isfile(model_path):
            raise RuntimeError(f"missing serialized model {model_path}")
        self.model = torch.jit.load(model_path, map_location=self.device)
        self.model.eval()

        labels_path = os.path.join(model_dir, LABELS_FILE)
        if os.path.isfile(labels_path):
            with open(labels_path, encoding="utf-8") as f:
                self.index_to_name = json.load(f)
        else:
            logger.warning("no %s in %s: answering with class indices", LABELS_FILE, model_dir)

        self.initialized = True
        logger.info("loaded %s on %s", model_path, self.device)

    def preprocess(self, data):
        images = []
        for row in data:
            payload = row.get("data") or row.get("body")
            if isinstance(payload, str):  # base64 from a JSON request
                payload = base64.b64decode(payload)
            image = Image.open(io.BytesIO(payload)).convert("RGB")
            images.append(self.transform(image))
        return torch.stack(images).to(self.device)

    def inference(self, data, *args, **kwargs):
        with torch.no_grad():
            return self.model(data)

    def postprocess(self, data):
        probs = F.softmax(data, dim=1)
        scores, indices = torch.topk(probs, 5)
        results = []
        for row_scores, row_indices in zip(scores.tolist(), indices.tolist()):
            results.append(
                {
                    self.index_to_name.get(str(idx), str(idx)): round(score, 6)
                    for idx, score in zip(row_indices, row_scores)
                }
            )
        return results
