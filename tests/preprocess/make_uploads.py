"""Image files of every kind a client uploads, and PIL's pixels for each, for the decoder tests.

Usage: python make_uploads.py OUT_DIR

skimage.data photographs (odd sizes on purpose: partial MCUs at the right and bottom edges)
are encoded by PIL and by OpenCV's libjpeg, which between them write baseline and progressive
files, 4:4:4, 4:2:2, 4:2:0, 4:4:0 and 4:1:1 subsampling, restart markers, grayscale, RGB, CMYK and YCCK.
PNG files come in every colour type and depth: palette (with transparency), 1/2/4-bit and
8-bit grayscale, grayscale with alpha, RGB, RGBA, and 16-bit grayscale, RGB, RGBA and
grayscale with alpha. EXIF orientations 1 to 8 come in both. Each file is decoded with `Image.open(path).convert("RGB")`, the way services read uploads
(and, for the oriented files, also through ImageOps.exif_transpose), and saved as .npy; manifest.json lists the cases.
"""

import json
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import skimage.data
from PIL import Image, ImageOps

CV_SAMPLING = {
    "444": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
    "422": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    "420": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
    "440": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_440,
    "411": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_411,
}


def photographs():
    yield "astronaut", skimage.data.astronaut()  # 512x512
    yield "chelsea", skimage.data.chelsea()[:299, :451]  # odd height
    yield "coffee_odd", np.ascontiguousarray(skimage.data.coffee()[3:390, 5:598])  # 387x593
    yield "rocket_tiny", np.ascontiguousarray(skimage.data.rocket()[:13, :11])  # < one MCU


def pil_cases(name, rgb):
    image = Image.fromarray(rgb)
    for subsampling, label in [(0, "444"), (1, "422"), (2, "420")]:
        yield f"{name}_pil_{label}_q90", image, {"quality": 90, "subsampling": subsampling}
        yield f"{name}_pil_{label}_progressive", image, {
            "quality": 75,
            "subsampling": subsampling,
            "progressive": True,
        }
    yield f"{name}_pil_420_q100", image, {"quality": 100, "subsampling": 2}
    yield f"{name}_pil_420_q10", image, {"quality": 10, "subsampling": 2}
    yield f"{name}_pil_gray", image.convert("L"), {"quality": 85}
    yield f"{name}_pil_gray_progressive", image.convert("L"), {"quality": 85, "progressive": True}
    yield f"{name}_pil_cmyk", image.convert("CMYK"), {"quality": 90}
    yield f"{name}_pil_rgb", image, {"quality": 90, "keep_rgb": True, "subsampling": 0}


def as_ycck(cmyk_jpeg: bytes) -> bytes:
    """The CMYK file with its Adobe marker saying YCCK (transform 2): libjpeg then converts
    the same samples YCCK->CMYK, which exercises that path (no Python encoder writes YCCK)."""
    at = cmyk_jpeg.index(b"Adobe")
    assert cmyk_jpeg[at + 11] == 0, "PIL writes CMYK with Adobe transform 0"
    return cmyk_jpeg[: at + 11] + bytes([2]) + cmyk_jpeg[at + 12 :]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_16bit(samples: np.ndarray, color_type: int) -> bytes:
    """A 16-bit PNG written by hand (neither PIL nor OpenCV writes gray+alpha at 16 bits)."""
    height, width = samples.shape[:2]
    rows = samples.astype(">u2").reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def png_cases(rgb: np.ndarray):
    """(case, writer) for each PNG kind; the writer saves to the path it is given."""
    image = Image.fromarray(rgb)
    alpha = Image.fromarray((np.arange(rgb.shape[1]) % 256).astype(np.uint8)[None].repeat(
        rgb.shape[0], 0))
    wide = rgb.astype(np.uint16) * 257 + np.arange(rgb.shape[1])[None, :, None].astype(np.uint16)
    palette = image.quantize(64)
    palette.info["transparency"] = 3
    yield "rgb", lambda p: image.save(p)
    yield "rgba", lambda p: Image.merge("RGBA", (*image.split(), alpha)).save(p)
    yield "palette", lambda p: palette.save(p, transparency=3)
    yield "palette_4bit", lambda p: image.quantize(16).save(p, bits=4)
    yield "gray", lambda p: image.convert("L").save(p)
    yield "gray_alpha", lambda p: Image.merge("LA", (image.convert("L"), alpha)).save(p)
    yield "bilevel", lambda p: image.convert("1").save(p)
    yield "gray16", lambda p: cv2.imwrite(str(p), wide[..., 0] // 64)
    yield "rgb16", lambda p: cv2.imwrite(str(p), np.ascontiguousarray(wide[..., ::-1]))
    yield "rgba16", lambda p: cv2.imwrite(
        str(p), np.dstack([wide[..., ::-1], wide[..., :1]]))
    yield "gray_alpha16", lambda p: p.write_bytes(png_16bit(np.dstack([wide[..., 1], wide[..., 2]]), 4))


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = []

    def add(case, path, exif_transpose=False):
        image = Image.open(path)
        if exif_transpose:
            image = ImageOps.exif_transpose(image)
        pixels = np.asarray(image.convert("RGB"))
        np.save(out_dir / f"{case}.npy", pixels)
        cases.append({"case": case, "file": path.name, "expected": f"{case}.npy",
                      "exif_transpose": exif_transpose})

    for name, rgb in photographs():
        for case, image, options in pil_cases(name, rgb):
            path = out_dir / f"{case}.jpg"
            image.save(path, "JPEG", **options)
            add(case, path)
        ycck = out_dir / f"{name}_ycck.jpg"
        ycck.write_bytes(as_ycck((out_dir / f"{name}_pil_cmyk.jpg").read_bytes()))
        add(f"{name}_ycck", ycck)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        for label, factor in CV_SAMPLING.items():
            for extra, params in [
                ("", []),
                ("_restart", [cv2.IMWRITE_JPEG_RST_INTERVAL, 3]),
                ("_progressive", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
            ]:
                case = f"{name}_cv_{label}{extra}"
                path = out_dir / f"{case}.jpg"
                flags = [cv2.IMWRITE_JPEG_QUALITY, 92, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, factor]
                if not cv2.imwrite(str(path), bgr, flags + params):
                    raise SystemExit(f"OpenCV could not write {path}")
                add(case, path)
        # Restart markers with an optimized, progressive stream on top.
        case = f"{name}_cv_420_restart_progressive"
        path = out_dir / f"{case}.jpg"
        cv2.imwrite(
            str(path),
            bgr,
            [cv2.IMWRITE_JPEG_RST_INTERVAL, 2, cv2.IMWRITE_JPEG_PROGRESSIVE, 1,
             cv2.IMWRITE_JPEG_OPTIMIZE, 1],
        )
        add(case, path)
    for name, rgb in photographs():
        if name == "rocket_tiny":
            continue
        for kind, write in png_cases(rgb):
            case = f"{name}_png_{kind}"
            path = out_dir / f"{case}.png"
            write(path)
            add(case, path)
    # EXIF orientations 1-8, in JPEG (APP1) and PNG (eXIf): PIL ignores the tag on open and
    # applies it in ImageOps.exif_transpose.
    chelsea = Image.fromarray(skimage.data.chelsea()[:41, :67])
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        for ext, fmt in [("jpg", "JPEG"), ("png", "PNG")]:
            path = out_dir / f"orientation_{orientation}.{ext}"
            chelsea.save(path, fmt, exif=exif)
            add(f"orientation_{orientation}_{ext}", path)
            add(f"orientation_{orientation}_{ext}_transposed", path, exif_transpose=True)
    (out_dir / "manifest.json").write_text(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
