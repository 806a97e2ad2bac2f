#!/bin/sh
# Packs the handler, the network's code and its weights into model-store/digits.mar.
set -e
mkdir -p model-store
torch-model-archiver --model-name digits --version 1.0 \
    --model-file digit_net.py \
    --serialized-file weights/digits.pt \
    --handler handler.py \
    --extra-files index_to_name.json \
    --export-path model-store --force
