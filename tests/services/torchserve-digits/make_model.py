"""Writes weights/digits.pt: DigitNet's state_dict with seeded random weights."""

from pathlib import Path

import torch

from digit_net import DigitNet

OUT = Path(__file__).resolve().parent / "weights" / "digits.pt"


def main() -> None:
    torch.manual_seed(7)
    OUT.parent.mkdir(exist_ok=True)
    torch.save(DigitNet().eval().state_dict(), OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
