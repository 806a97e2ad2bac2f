"""Writes model/digits.pt: the service's DigitNet with seeded random weights."""

import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "digits"))

from net import DigitNet  # noqa: E402

OUT = HERE / "model" / "digits.pt"


def main() -> None:
    torch.manual_seed(5)
    OUT.parent.mkdir(exist_ok=True)
    torch.save(DigitNet().eval().state_dict(), OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
