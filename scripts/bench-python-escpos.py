#!/usr/bin/env python3
"""The badge benchmark's reference: the same badge (576 dots, DejaVu Sans, QR level M, raster
image, cut) built with Pillow + qrcode and encoded by python-escpos, measured p50/p95 in the same
run as `cargo bench --bench badge`. Needs: pip install python-escpos (brings Pillow and qrcode).
Usage: scripts/bench-python-escpos.py [iterations]"""
import contextlib
import io
import logging
import statistics
import sys
import warnings
import time
from pathlib import Path

import qrcode
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
WIDTH, DPMM = 576, 203 / 25.4
PAYLOAD = "SG17D3KQ9M2XA0123456789"


def badge() -> bytes:
    bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), int(7 * DPMM))
    small_bold = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), int(3.2 * DPMM))
    id_font = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), int(4.2 * DPMM))
    regular = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), int(3.2 * DPMM))
    img = Image.new("1", (WIDTH, 620), 1)
    d = ImageDraw.Draw(img)
    y = 16
    for text, font, gap in [
        ("Plant North", small_bold, 8),
        (None, None, 20),
        ("Zofia", bold, 0),
        ("Łukasiewicz-Wróbel", bold, 12),
        ("ID ABCDE-FGHJ0", id_font, 0),
        ("Trainee · Acme Scaffolding", regular, 24),
    ]:
        if text is None:
            d.rectangle([16, y, WIDTH - 16, y + 1], fill=0)
            y += gap
            continue
        w = d.textlength(text, font=font)
        d.text(((WIDTH - w) / 2, y), text, font=font, fill=0)
        y += font.size * 1.2 + gap
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=9, border=0)
    qr.add_data(PAYLOAD)
    q = qr.make_image().get_image().convert("1")
    img.paste(q, ((WIDTH - q.width) // 2, int(y)))
    y += q.height + 24
    d.text((150, y), "Issued 2026-03-01 · badge 2", font=regular, fill=0)
    p = Dummy()
    # python-escpos prints a notice on every image that its Dummy profile has no paper width.
    with contextlib.redirect_stdout(io.StringIO()):
        p.image(img, impl="bitImageRaster")
    p.cut()
    return p.output


def main() -> None:
    # python-escpos warns on every image that its Dummy profile has no paper width.
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    badge()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        out = badge()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"python-escpos badge: {len(out)} bytes, n={n}, p50 {statistics.median(times):.2f} ms, "
          f"p95 {times[int(n * 0.95)]:.2f} ms")


if __name__ == "__main__":
    main()
