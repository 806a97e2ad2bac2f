"""Churn risk for one customer: the client posts the customer's fields as a JSON object and
gets the probability that they leave."""

import pickle

from flask import Flask, jsonify, request

with open("model/churn.bin", "rb") as f_in:
    vectorizer, model = pickle.load(f_in)

app = Flask("churn")


def churn_probability(customer):
    features = vectorizer.transform([customer])
    return model.predict_proba(features)[0, 1]


@app.route("/predict", methods=["POST"])
def predict():
    customer = request.get_json()
    probability = churn_probability(customer)
    return jsonify({"churn_probability": float(probability), "churn": bool(probability >= 0.5)})


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=9696)
