"""Draw the Teams app icons once (manifest/color.png and manifest/outline.png); the PNGs are committed.

Run `.venv/bin/python scripts/make_icons.py` after changing the design or the accent colour.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
ACCENT = "#2E7D6B"
SUPERSAMPLE = 8


def _heart(size: int, scale: float) -> list[tuple[float, float]]:
    """The classic parametric heart, centred in a square of `size` and `scale` of its width."""
    points = []
    for step in range(720):
        t = 2 * math.pi * step / 720
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        points.append((x, -y))
    factor = size * scale / 34
    offset_y = size / 2 + factor * 1.5
    return [(size / 2 + x * factor, offset_y + y * factor) for x, y in points]


def _mask(size: int, draw_shape) -> Image.Image:
    """An antialiased alpha mask: drawn large, then scaled down."""
    big = size * SUPERSAMPLE
    mask = Image.new("L", (big, big), 0)
    draw_shape(ImageDraw.Draw(mask), big)
    return mask.resize((size, size), Image.Resampling.LANCZOS)


def color_icon() -> Image.Image:
    """192×192: a white heart on the accent colour, edge to edge as Teams asks."""
    icon = Image.new("RGB", (192, 192), ACCENT)
    heart = _mask(192, lambda draw, big: draw.polygon(_heart(big, 0.62), fill=255))
    icon.paste(Image.new("RGB", (192, 192), "white"), (0, 0), heart)
    return icon


def outline_icon() -> Image.Image:
    """32×32: a white heart outline on a transparent background, as Teams asks."""

    def ring(draw: ImageDraw.ImageDraw, big: int) -> None:
        draw.polygon(_heart(big, 0.8), fill=255)
        draw.polygon(_heart(big, 0.5), fill=0)

    icon = Image.new("RGBA", (32, 32), (255, 255, 255, 255))
    icon.putalpha(_mask(32, ring))
    return icon


def main() -> None:
    color_icon().save(ROOT / "manifest" / "color.png", optimize=True)
    outline_icon().save(ROOT / "manifest" / "outline.png", optimize=True)
    print("wrote manifest/color.png and manifest/outline.png")


if __name__ == "__main__":
    main()
