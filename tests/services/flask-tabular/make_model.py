"""Writes model/churn.bin: a DictVectorizer and a logistic regression fitted on seeded
synthetic customers, pickled together as the service loads them."""

import pickle
import random
from pathlib import Path

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

OUT = Path(__file__).resolve().parent / "model" / "churn.bin"


def main() -> None:
    rng = random.Random(11)
    customers, left = [], []
    for _ in range(300):
        contract = rng.choice(["month-to-month", "one_year", "two_year"])
        tenure = rng.randint(0, 72)
        charges = round(rng.uniform(18.0, 120.0), 2)
        customers.append({"contract": contract, "tenure": tenure, "monthlycharges": charges})
        left.append(int(contract == "month-to-month" and tenure < 24 or charges > 100))
    vectorizer = DictVectorizer(sparse=False)
    features = vectorizer.fit_transform(customers)
    model = LogisticRegression(max_iter=1000).fit(features, left)
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "wb") as f_out:
        pickle.dump((vectorizer, model), f_out)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
