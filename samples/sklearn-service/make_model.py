"""Create the model this service loads: model/iris.joblib.

Trains a LogisticRegression on the Iris data set that ships inside
scikit-learn (nothing is downloaded).
"""

from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

OUT_DIR = Path(__file__).resolve().parent / "model"
OUT_PATH = OUT_DIR / "iris.joblib"


def main() -> None:
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)

    model = LogisticRegression(max_iter=1000, random_state=0)
    model.fit(X_train, y_train)
    print(f"test accuracy: {model.score(X_test, y_test):.3f}")

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, OUT_PATH)
    print(f"wrote {OUT_PATH}")


if __name__ == "__main__":
    main()
