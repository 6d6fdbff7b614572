#!/usr/bin/env python3
"""Make the CJK font subsets in assets/fonts from Debian's fonts-noto-cjk (SIL OFL 1.1).

Regular: GB2312 levels 1 and 2 (6,763 hanzi), its symbol rows, ASCII, CJK punctuation, and
every character used in the project's sources, config and city layers (place names can
fall outside GB2312). Bold: ASCII and the project's own characters (titles, KPI figures).
Needs: apt-get install fonts-noto-cjk; pip install fonttools.
"""
import pathlib, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = pathlib.Path("/usr/share/fonts/opentype/noto")

def gb2312():
    chars = set()
    for hi in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars

def project():
    chars = set()
    for pattern in ["src/**/*.rs", "crates/**/*.rs", "crates/**/*.html", "crates/**/*.js",
                    "config/**/*.toml", "assets/city/*.geojson", "README.md"]:
        for p in ROOT.glob(pattern):
            chars |= set(p.read_text(encoding="utf-8"))
    return {c for c in chars if ord(c) > 0x7F}

def subset(src, out, chars):
    text = ROOT / "target" / (out + ".chars.txt")
    text.parent.mkdir(exist_ok=True)
    ascii_ = "".join(chr(c) for c in range(0x20, 0x7F))
    punct = "".join(chr(c) for c in range(0x3000, 0x3040)) + "".join(chr(c) for c in range(0xFF00, 0xFFF0))
    text.write_text(ascii_ + punct + "".join(sorted(chars)) + "●○◆◇■□▲△▼▽★☆→←↑↓⚠✓✕·…—", encoding="utf-8")
    subprocess.run([
        "pyftsubset", str(SRC / src), "--font-number=2", f"--text-file={text}",
        "--layout-features=", "--drop-tables+=vhea,vmtx,VORG,DSIG", "--no-hinting",
        f"--output-file={ROOT / 'assets/fonts' / out}",
    ], check=True)

proj = project()
subset("NotoSansCJK-Regular.ttc", "NotoSansSC-Regular-subset.otf", gb2312() | proj)
subset("NotoSansCJK-Bold.ttc", "NotoSansSC-Bold-subset.otf", proj)
print("project characters:", len(proj), file=sys.stderr)
