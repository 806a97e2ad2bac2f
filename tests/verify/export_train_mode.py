"""A wrong migration for the verify tests: torchvision-flask's ResNet exported to ONNX in
training mode (batch-norm on batch statistics), over the converted model.

Usage: python export_train_mode.py SERVICE_DIR
"""

import os
import sys

import torch
import torchvision

os.chdir(sys.argv[1])
model = torchvision.models.resnet18(weights=None, num_classes=10)
model.load_state_dict(torch.load("model/resnet18.pt", map_location="cpu", weights_only=True))
model.train()
torch.onnx.export(
    model,
    (torch.randn(1, 3, 224, 224),),
    "migrated/model/model.onnx",
    dynamo=False,
    opset_version=17,
    training=torch.onnx.TrainingMode.TRAINING,
    do_constant_folding=False,
    input_names=["input"],
    output_names=["output"],
)
