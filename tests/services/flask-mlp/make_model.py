"""Writes model/mlp.pt: the service's DigitMLP with seeded random weights."""

from pathlib import Path

import torch

from net import DigitMLP

OUT = Path(__file__).resolve().parent / "model" / "mlp.pt"


def main() -> None:
    torch.manual_seed(3)
    OUT.parent.mkdir(exist_ok=True)
    torch.save(DigitMLP().eval().state_dict(), OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
