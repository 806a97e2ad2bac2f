import os

MODEL_PATH = os.getenv("MODEL_PATH", "models/tinynet.pt")
RESIZE_TO = 146
CROP_TO = 128
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
LABELS = ["cat", "dog", "bird", "fish"]
TOP_K = 3
