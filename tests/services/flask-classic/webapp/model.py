import torch
import torchvision

MODEL_PATH = "model/squeeze.pt"


class Classifier:
    net = None

    @classmethod
    def load(cls):
        if cls.net is None:
            net = torchvision.models.squeezenet1_1(weights=None, num_classes=6)
            net.load_state_dict(torch.load(MODEL_PATH, map_location="cpu", weights_only=True))
            cls.net = net.eval()
        return cls.net
