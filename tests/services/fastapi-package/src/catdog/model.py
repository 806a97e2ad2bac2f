from functools import lru_cache

import torch

from . import settings
from .net import TinyNet


@lru_cache(maxsize=1)
def get_model() -> TinyNet:
    model = TinyNet(num_classes=len(settings.LABELS))
    state = torch.load(settings.MODEL_PATH, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()
