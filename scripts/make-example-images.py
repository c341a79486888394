#!/usr/bin/python3
"""Renders the bundled example pictures (examples/data/*.png): a printed text line,
upright and turned 180 degrees, as the PP-OCR direction classifier sees them.
Needs Debian's python3-pil and fonts-dejavu-core. Run once; the PNGs are committed."""
import sys
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_line(text, height=48, pad=8):
    font = ImageFont.truetype(FONT, int(height * 0.6))
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 2 * pad, height), (246, 244, 238))
    ImageDraw.Draw(image).text((pad - left, (height - (bottom - top)) // 2 - top), text,
                               font=font, fill=(20, 20, 30))
    return image


def main(out_dir):
    line = text_line("Quantize once, run anywhere: 42 NPUs")
    line.save(f"{out_dir}/text_line.png", optimize=True)
    line.rotate(180).save(f"{out_dir}/text_line_rotated.png", optimize=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/data")
