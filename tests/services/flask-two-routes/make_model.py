"""Writes model/shapes.pt: ShapesNet's state_dict with seeded random weights."""

from pathlib import Path

import torch

from net import ShapesNet

OUT = Path(__file__).resolve().parent / "model" / "shapes.pt"


def main() -> None:
    torch.manual_seed(5)
    OUT.parent.mkdir(exist_ok=True)
    torch.save(ShapesNet().eval().state_dict(), OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
