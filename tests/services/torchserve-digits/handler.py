import io
import json
import os

import torch
from PIL import Image
from torchvision import transforms
from ts.torch_handler.base_handler import BaseHandler


class DigitHandler(BaseHandler):
    def __init__(self):
        super().__init__()
        self.transform = transforms.Compose(
            [
                transforms.Resize((28, 28)),
                transforms.ToTensor(),
                transforms.Normalize((0.5,), (0.5,)),
            ]
        )
        self.names = {}

    def initialize(self, context):
        super().initialize(context)
        model_dir = context.system_properties.get("model_dir")
        with open(os.path.join(model_dir, "index_to_name.json")) as f:
            self.names = json.load(f)

    def preprocess(self, data):
        images = []
        for row in data:
            payload = row.get("data") or row.get("body")
            image = Image.open(io.BytesIO(payload)).convert("L")
            images.append(self.transform(image))
        return torch.stack(images)

    def postprocess(self, data):
        probabilities = torch.softmax(data, dim=1)
        best = probabilities.argmax(dim=1)
        return [
            {"digit": self.names[str(int(i))], "confidence": round(float(p[i]), 4)}
            for p, i in zip(probabilities, best)
        ]
