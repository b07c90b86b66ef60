#!/usr/bin/env python3
"""synth_sheet.py PERIMETER OUT.png [SEED]: one generated impression of each
pattern class with the minutiae our extractor finds drawn on it (red squares:
endings, blue circles: bifurcations; `perimeter extract --draw`), side by
side, cropped to the centre and stored as a small palette PNG for docs/.
Generated at --difficulty 0.3 (mostly good captures, little displacement) so
the pattern of each class is plain to see.

Python standard library only (zlib, struct): decodes the RGB PNGs that
`perimeter extract --draw` writes, quantises them to a 64-colour palette
(48 greys, reds, blues) and writes one 8-bit palette PNG."""
import os
import struct
import subprocess
import sys
import tempfile
import zlib

CLASSES = ["arch", "tented_arch", "left_loop", "right_loop", "whorl"]
CROP_W, CROP_H, GAP = 280, 330, 6


def read_png_rgb(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 2 and interlace == 0, "want 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp, stride = 3, w * 3
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return w, h, rows


def palette():
    pal = [(int(i * 255 / 47),) * 3 for i in range(48)]
    pal += [(230, 20, 20), (20, 60, 240), (150, 150, 150)]
    return pal


def index_of(r, g, b):
    if r > 180 and g < 80 and b < 80:
        return 48
    if b > 180 and r < 80:
        return 49
    return min(47, round((r + g + b) / 3 * 47 / 255))


def write_png_palette(path, w, h, pix, pal):
    def chunk(kind, body):
        c = struct.pack(">I", len(body)) + kind + body
        return c + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)

    raw = b"".join(b"\x00" + bytes(pix[y * w:(y + 1) * w]) for y in range(h))
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
    out += chunk(b"PLTE", b"".join(bytes(c) for c in pal))
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    out += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, out, seed = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "3")
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for cls in CLASSES:
            d = os.path.join(tmp, cls)
            subprocess.run([binary, "synth", "prints", "--fingers", "1", "--impressions", "1",
                            "--seed", seed, "--class", cls, "--out", d, "--threads", "1",
                            "--difficulty", "0.3"],
                           check=True, stdout=subprocess.DEVNULL)
            drawn = os.path.join(tmp, cls + ".png")
            subprocess.run([binary, "extract", os.path.join(d, "DB1_B", "101_1.png"),
                            "--draw", drawn], check=True, stdout=subprocess.DEVNULL)
            tiles.append(read_png_rgb(drawn))
    W = len(tiles) * CROP_W + (len(tiles) - 1) * GAP
    H = CROP_H
    pix = bytearray([47]) * (W * H)
    for k, (w, h, rows) in enumerate(tiles):
        x0, y0 = max(0, (w - CROP_W) // 2), max(0, (h - CROP_H) // 2)
        for y in range(min(CROP_H, h)):
            row = rows[y0 + y]
            base = y * W + k * (CROP_W + GAP)
            for x in range(min(CROP_W, w)):
                i = 3 * (x0 + x)
                pix[base + x] = index_of(row[i], row[i + 1], row[i + 2])
    write_png_palette(out, W, H, pix, palette())
    print("%s: %dx%d, %d bytes (%s)" % (out, W, H, os.path.getsize(out), ", ".join(CLASSES)))


if __name__ == "__main__":
    main()
