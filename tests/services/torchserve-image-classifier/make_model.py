"""Writes weights/flowers.pth: FlowerNet's state_dict with seeded random weights."""

from pathlib import Path

import torch

from flower_net import FlowerNet

OUT = Path(__file__).resolve().parent / "weights" / "flowers.pth"


def main() -> None:
    torch.manual_seed(11)
    OUT.parent.mkdir(exist_ok=True)
    torch.save(FlowerNet().eval().state_dict(), OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
