from ts.torch_handler.image_classifier import ImageClassifier


class FlowerClassifier(ImageClassifier):
    """TorchServe's image classifier, answering the best three flowers."""

    topk = 3
