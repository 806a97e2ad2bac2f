class Config:
    MODEL_FILE = "artifacts/scorer.onnx"
    INPUT_SIZE = 112
    CLASSES = ["plain", "striped", "spotted", "checked", "dotted"]
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024


MODEL_FILE = Config.MODEL_FILE
INPUT_SIZE = Config.INPUT_SIZE
