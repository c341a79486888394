#!/usr/bin/python3
"""Renders the PP-OCR calibration and evaluation pictures, with their known contents.

usage: make-eval-data.py OUT_DIR            calibration and evaluation sets (bench/accuracy)
       make-eval-data.py --bundled OUT_DIR  the small calibration set of examples/data/calib

OUT_DIR/{calib,eval}/{rec,cls,det}/ (or OUT_DIR/{rec,cls,det}/ with --bundled) each hold
pictures and a labels.json:
  rec: text lines,                 [{"file": "0000.png", "text": "..."}]
  cls: text lines upright/rotated, [{"file": "0000.png", "angle": 0 | 180}]
  det: 640x640 pages (JPEG),       [{"file": "0000.jpg", "boxes": [[x0, y0, x1, y1], ...],
                                     "texts": [...]}]   (ink bounding boxes, x1/y1 exclusive)
The text is English words, digits and ASCII punctuation (all in ppocr_keys_v1.txt): the
Debian fonts used (fonts-dejavu-core) have no Chinese glyphs. Fonts, sizes, contrast, blur
and noise vary. Everything comes from fixed seeds, so a run gives the same files on the
same Pillow/FreeType; the calibration and evaluation sets use different seeds and share
no string. OUT_DIR/.stamp holds a hash of this script: a second run with the same script
does nothing. Needs Debian's python3-pil, python3-numpy and fonts-dejavu-core.
"""
import fcntl
import hashlib
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = [
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansCondensed.ttf",
    "DejaVuSerif-Italic.ttf",
]

WORDS = """
time year people way day man thing woman life child world school state family student group
country problem hand part place case week company system program question work government
number night point home water room mother area money story fact month lot right study book
eye job word business issue side kind head house service friend father power hour game line
end member law car city community name president team minute idea kid body information back
parent face others level office door health person art war history party result change
morning reason research girl guy moment air teacher force education foot boy age policy
process music market sense nation plan college interest death experience effect class control
care field development role effort rate heart drug show leader light voice wife police mind
price report decision son view relationship town road arm difference value building action
model season society tax director position player record paper space ground form event
official matter center couple site project activity star table need court oil situation cost
industry figure street image phone data picture practice piece land product doctor wall
patient worker news test movie north love support technology step baby computer type window
quantize accelerator sensor camera engine signal memory channel layer scale weight output
input kernel graph tensor model buffer compiler target vector matrix filter pixel format
""".split()

PUNCTUATION = [".", ",", ":", ";", "!", "?"]


class Texts:
    """Random strings of words and numbers, never one already used."""

    def __init__(self, rng, used):
        self.rng = rng
        self.used = used

    def word(self):
        word = WORDS[self.rng.integers(len(WORDS))]
        style = self.rng.random()
        if style < 0.2:
            return word.upper()
        if style < 0.5:
            return word.capitalize()
        return word

    def number(self):
        kind = self.rng.integers(6)
        n = int(self.rng.integers(0, 10000))
        if kind == 0:
            return str(n)
        if kind == 1:
            return f"{n / 100:.2f}"
        if kind == 2:
            return f"{self.rng.integers(24):02d}:{self.rng.integers(60):02d}"
        if kind == 3:
            return f"{n % 100}%"
        if kind == 4:
            return f"${n / 100:.2f}"
        return f"No.{n % 1000}"

    def token(self):
        return self.number() if self.rng.random() < 0.3 else self.word()

    def line(self, min_tokens, max_tokens):
        while True:
            count = int(self.rng.integers(min_tokens, max_tokens + 1))
            text = " ".join(self.token() for _ in range(count))
            if self.rng.random() < 0.3:
                text += PUNCTUATION[self.rng.integers(len(PUNCTUATION))]
            if text not in self.used:
                self.used.add(text)
                return text


def font(rng, size):
    return ImageFont.truetype(os.path.join(FONT_DIR, FONTS[rng.integers(len(FONTS))]), size)


def colors(rng):
    """Background and text colors (RGB) with at least a moderate contrast."""
    while True:
        background = rng.integers(0, 256)
        foreground = rng.integers(0, 256)
        if abs(int(background) - int(foreground)) >= 90:
            break
    tint = rng.integers(-20, 21, size=3)
    bg = tuple(int(v) for v in np.clip(background + tint, 0, 255))
    fg = tuple(int(v) for v in np.clip(foreground + rng.integers(-20, 21, size=3), 0, 255))
    return bg, fg


def degrade(rng, image):
    """Slight blur and sensor noise, each on some pictures only."""
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 1.0))))
    if rng.random() < 0.5:
        pixels = np.asarray(image, dtype=np.float32)
        pixels += rng.normal(0.0, float(rng.uniform(2.0, 6.0)), size=pixels.shape)
        image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    return image


def text_line(rng, texts, max_aspect=6.4):
    """A cropped text line no wider than max_aspect x its height (PP-OCR rec's 320/48)."""
    while True:
        text = texts.line(1, 4)
        face = font(rng, int(rng.integers(20, 45)))
        left, top, right, bottom = face.getbbox(text)
        pad_x = int(rng.integers(3, 16))
        pad_y = int((bottom - top) * rng.uniform(0.15, 0.4)) + 2
        width, height = right - left + 2 * pad_x, bottom - top + 2 * pad_y
        if width <= max_aspect * height:
            break
        texts.used.discard(text)
    bg, fg = colors(rng)
    image = Image.new("RGB", (width, height), bg)
    ImageDraw.Draw(image).text((pad_x - left, pad_y - top), text, font=face, fill=fg)
    return degrade(rng, image), text


def page_background(rng, size):
    """A light or dark page with a gentle linear gradient."""
    base = float(rng.choice([rng.uniform(170, 250), rng.uniform(10, 80)]))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    gx, gy = rng.uniform(-25, 25, size=2)
    plane = base + gx * xs + gy * ys
    tint = rng.integers(-12, 13, size=3)
    pixels = np.clip(plane[:, :, None] + tint[None, None, :], 0, 255)
    return Image.fromarray(pixels.astype(np.uint8)), base


def overlaps(box, boxes, margin):
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + margin and b[0] < x1 + margin and y0 < b[3] + margin and b[1] < y1 + margin
               for b in boxes)


def detection_page(rng, texts, size=640):
    """A page of text lines at random free positions; boxes are the ink extents."""
    image, base = page_background(rng, size)
    draw = ImageDraw.Draw(image)
    boxes, lines = [], []
    wanted = int(rng.integers(4, 9))
    for _ in range(wanted * 20):
        if len(boxes) == wanted:
            break
        text = texts.line(1, 5)
        face = font(rng, int(rng.integers(18, 49)))
        left, top, right, bottom = face.getbbox(text)
        if right - left > size - 16:
            texts.used.discard(text)
            continue
        x = int(rng.integers(8, size - 8 - (right - left) + 1))
        y = int(rng.integers(8, size - 8 - (bottom - top) + 1))
        layer = Image.new("L", (size, size), 0)
        ImageDraw.Draw(layer).text((x - left, y - top), text, font=face, fill=255)
        ys, xs = np.nonzero(np.asarray(layer) > 64)
        if len(xs) == 0:
            texts.used.discard(text)
            continue
        box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
        if overlaps(box, boxes, margin=12):
            texts.used.discard(text)
            continue
        shade = float(rng.uniform(0, 60)) if base > 128 else float(rng.uniform(190, 255))
        fill = tuple(int(v) for v in np.clip(shade + rng.integers(-15, 16, size=3), 0, 255))
        draw.text((x - left, y - top), text, font=face, fill=fill)
        boxes.append(box)
        lines.append(text)
    return degrade(rng, image), boxes, lines


def write_labels(directory, labels):
    """One entry a line."""
    entries = ",\n ".join(json.dumps(entry, ensure_ascii=False) for entry in labels)
    with open(os.path.join(directory, "labels.json"), "w", encoding="utf-8") as f:
        f.write(f"[{entries}]\n")


def write_set(out_dir, seed, forbidden, rec_count, cls_lines, det_count):
    """rec_count text lines, cls_lines of them each upright and turned (2 x cls_lines
    pictures), det_count pages; no string in `forbidden`. Each kind has its own random
    stream, so a smaller set is a prefix of a larger one with the same seed. Returns the
    strings used."""
    for kind in ("rec", "cls", "det"):
        os.makedirs(os.path.join(out_dir, kind), exist_ok=True)
    line_texts = Texts(np.random.default_rng([seed, 0]), set(forbidden))
    rec, lines = [], []
    for i in range(rec_count):
        image, text = text_line(line_texts.rng, line_texts)
        name = f"{i:04d}.png"
        image.save(os.path.join(out_dir, "rec", name), optimize=True)
        rec.append({"file": name, "text": text})
        lines.append(image)
    write_labels(os.path.join(out_dir, "rec"), rec)
    # The direction classifier sees the rec lines, each also turned 180 degrees.
    cls = []
    for i, image in enumerate(lines[:cls_lines]):
        for angle, picture in ((0, image), (180, image.rotate(180))):
            name = f"{2 * i + angle // 180:04d}.png"
            picture.save(os.path.join(out_dir, "cls", name), optimize=True)
            cls.append({"file": name, "angle": angle})
    write_labels(os.path.join(out_dir, "cls"), cls)
    page_texts = Texts(np.random.default_rng([seed, 1]), set(forbidden))
    det = []
    for i in range(det_count):
        image, boxes, strings = detection_page(page_texts.rng, page_texts)
        name = f"{i:04d}.jpg"
        image.save(os.path.join(out_dir, "det", name), quality=80)
        det.append({"file": name, "boxes": boxes, "texts": strings})
    write_labels(os.path.join(out_dir, "det"), det)
    return line_texts.used | page_texts.used


CALIBRATION_SEED = 20240601
EVALUATION_SEED = 20240602


def write_all(out_dir, bundled):
    if bundled:
        # The first pictures of the calibration set.
        write_set(out_dir, CALIBRATION_SEED, set(), rec_count=16, cls_lines=8, det_count=8)
        return
    calibration = write_set(os.path.join(out_dir, "calib"), CALIBRATION_SEED, set(), 32, 16, 32)
    write_set(os.path.join(out_dir, "eval"), EVALUATION_SEED, calibration, 100, 50, 20)


def script_hash():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(argv):
    bundled = len(argv) == 3 and argv[1] == "--bundled"
    if not bundled and (len(argv) != 2 or argv[1].startswith("-")):
        sys.exit(__doc__)
    out_dir = argv[-1]
    os.makedirs(out_dir, exist_ok=True)
    if bundled:
        write_all(out_dir, bundled=True)
        return
    stamp_path = os.path.join(out_dir, ".stamp")
    # Parallel benchmark runs generate once.
    with open(os.path.join(out_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stamp_path):
            with open(stamp_path) as f:
                if f.read().strip() == script_hash():
                    return
            os.remove(stamp_path)
        for kind in ("calib", "eval"):
            shutil.rmtree(os.path.join(out_dir, kind), ignore_errors=True)
        write_all(out_dir, bundled=False)
        with open(stamp_path, "w") as f:
            f.write(script_hash() + "\n")
    print(f"make-eval-data: wrote {out_dir}")


if __name__ == "__main__":
    main(sys.argv)
