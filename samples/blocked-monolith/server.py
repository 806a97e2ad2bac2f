"""Video object detection service (GPU only), run with gunicorn:

    gunicorn -w 1 -b 0.0.0.0:8000 server:app

POST a video as form field "video" to /detect: ffmpeg samples frames, a pool of
worker processes decodes them, OpenCV CUDA resizes them, a TorchScript
detector scores them and the fastops CUDA extension runs NMS.
"""

import glob
import multiprocessing
import os
import shutil
import subprocess
import tempfile

import cv2
import torch
from flask import Flask, jsonify, request

import fastops  # our CUDA extension, built by setup.py

DEVICE = "cuda"
INPUT_W, INPUT_H = 320, 320
FRAMES_PER_SECOND = 2
SCORE_THRESHOLD = 0.3
IOU_THRESHOLD = 0.5


def load_frame(path: str):
    """Pool worker: read one extracted frame and convert it to RGB (CPU only)."""
    frame = cv2.imread(path, cv2.IMREAD_COLOR)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


# Fork the decode workers before this process initialises CUDA.
pool = multiprocessing.Pool(4)

if not torch.cuda.is_available():
    raise RuntimeError("the detector service needs an NVIDIA GPU with CUDA")

model = torch.jit.load("model/detector.pt").cuda()
model.eval()

app = Flask(__name__)


def extract_frames(video_path: str, out_dir: str) -> list[str]:
    subprocess.run(
        ["ffmpeg", "-i", video_path, "-vf", f"fps={FRAMES_PER_SECOND}",
         "-loglevel", "error", os.path.join(out_dir, "%06d.png")],
        check=True,
    )
    paths = sorted(glob.glob(os.path.join(out_dir, "*.png")))
    # The thumbnail sidecar picks up the latest frame list from here.
    os.makedirs("/tmp/frames", exist_ok=True)
    with open("/tmp/frames/list.txt", "w") as f:
        f.write("\n".join(paths) + "\n")
    return paths


def to_input(frame) -> torch.Tensor:
    gpu_frame = cv2.cuda_GpuMat()
    gpu_frame.upload(frame)
    resized = cv2.cuda.resize(gpu_frame, (INPUT_W, INPUT_H), interpolation=cv2.INTER_LINEAR)
    x = torch.from_numpy(resized.download()).to(DEVICE)
    return x.permute(2, 0, 1).float().div_(255.0).unsqueeze(0)


@app.route("/detect", methods=["POST"])
def detect():
    upload = request.files.get("video")
    if upload is None:
        return jsonify(error="missing form field 'video'"), 400

    work_dir = tempfile.mkdtemp(dir="/tmp")
    try:
        video_path = os.path.join(work_dir, "input" + os.path.splitext(upload.filename or "")[1])
        upload.save(video_path)
        frames = pool.map(load_frame, extract_frames(video_path, work_dir))

        results = []
        for index, frame in enumerate(frames):
            scale = torch.tensor(
                [frame.shape[1] / INPUT_W, frame.shape[0] / INPUT_H] * 2, device=DEVICE
            )
            with torch.no_grad():
                boxes, scores = model(to_input(frame))
            boxes, scores = boxes[0], scores[0]
            candidates = scores > SCORE_THRESHOLD
            boxes, scores = boxes[candidates] * scale, scores[candidates]
            keep = fastops.nms(boxes, scores, IOU_THRESHOLD)
            results.append({
                "frame": index,
                "time_s": index / FRAMES_PER_SECOND,
                "boxes": boxes[keep].round().int().tolist(),
                "scores": scores[keep].tolist(),
            })
    except subprocess.CalledProcessError:
        return jsonify(error="ffmpeg could not decode the video"), 422
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    return jsonify(frames=results)
