import numpy as np
from flask import Flask, jsonify, request
from keras.models import load_model
from PIL import Image, ImageOps

app = Flask(__name__)
model = load_model("model/keras_model.keras", compile=False)
class_names = open("labels.txt", "r").readlines()


@app.route("/predict", methods=["POST"])
def predict():
    data = np.ndarray(shape=(1, 96, 96, 3), dtype=np.float32)
    image = Image.open(request.files["file"]).convert("RGB")
    image = ImageOps.fit(image, (96, 96), Image.Resampling.LANCZOS)
    image_array = np.asarray(image)
    normalized_image_array = (image_array.astype(np.float32) / 127.5) - 1
    data[0] = normalized_image_array
    prediction = model.predict(data)
    index = np.argmax(prediction)
    return jsonify(label=class_names[index][2:].strip(), score=float(prediction[0][index]))
