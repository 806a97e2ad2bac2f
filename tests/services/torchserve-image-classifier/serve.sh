#!/bin/sh
exec torchserve --start --foreground --ncs --model-store model-store --models flowers=flowers.mar --ts-config config.properties
