import io

from PIL import Image
from torchvision import transforms

from .settings import CROP_TO, MEAN, RESIZE_TO, STD

transform = transforms.Compose(
    [
        transforms.Resize(RESIZE_TO),
        transforms.CenterCrop(CROP_TO),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ]
)


def load_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")
