"""Draw the installable app's PNG icons from the favicon's squares (run once; the PNGs are committed).

`python src/panjereh/web/assets/icons.py` rewrites web/static/icons/. The favicon is four squares on a
rounded tile; a maskable icon keeps them inside the central safe zone (80%) on a full-bleed tile.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw

STATIC = Path(__file__).resolve().parents[1] / "static"
FAVICON = STATIC / "favicon.svg"
SIZES = (180, 192, 512)  # the apple-touch icon, and the two sizes a manifest needs


def _rects(svg: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in re.findall(r"<rect ([^>]*)/>", svg)]


def draw(size: int, *, maskable: bool = False) -> Image.Image:
    """The favicon at `size` pixels (its viewBox is 32 units)."""
    tile, *squares = _rects(FAVICON.read_text(encoding="utf-8"))
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:  # full bleed; the squares shrunk into the safe zone around the centre
        pen.rectangle((0, 0, size, size), fill=tile["fill"])
        scale, offset = size * 0.8 / 32, size * 0.1
    else:
        scale, offset = size / 32, 0.0
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=float(tile["rx"]) * scale, fill=tile["fill"])
    for square in squares:
        x, y = float(square["x"]) * scale + offset, float(square["y"]) * scale + offset
        w, h = float(square["width"]) * scale, float(square["height"]) * scale
        pen.rectangle((round(x), round(y), round(x + w) - 1, round(y + h) - 1), fill=square["fill"])
    return image


def main() -> None:
    target = STATIC / "icons"
    target.mkdir(exist_ok=True)
    for size in SIZES:
        draw(size).save(target / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(target / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
