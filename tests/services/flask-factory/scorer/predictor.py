import threading

import numpy as np
import onnxruntime as ort

from .config import MODEL_FILE


class Predictor:
    """One session per process, created by the first request that needs it."""

    _instance = None
    _lock = threading.Lock()

    def __init__(self):
        self.session = ort.InferenceSession(MODEL_FILE, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    @classmethod
    def get(cls) -> "Predictor":
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
        return cls._instance

    def scores(self, batch: np.ndarray) -> np.ndarray:
        (logits,) = self.session.run(None, {self.input_name: batch})
        return logits[0]
