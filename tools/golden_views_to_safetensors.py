#!/usr/bin/env python3
"""Copy a conformance folder and add cases/<name>/views.safetensors to each case.

The lite build of folio (FOLIO_FULL=OFF, as on the GPU machine) has no PNG decoder; its
conformance runner reads the official views from these files instead: one U8 tensor [H, W, 3]
(RGB) per view, named like the PNG without its extension ("global", "tile00", ...).

usage: golden_views_to_safetensors.py SRC_DIR OUT_DIR   (OUT_DIR may equal SRC_DIR)
needs: Pillow, numpy, safetensors
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.numpy import save_file


def convert_case(case_dir: Path, views: list) -> int:
    tensors = {}
    for view in views:
        png = case_dir / f"{view}.png"
        if not png.exists():
            raise SystemExit(f"{png}: missing (listed in index.json)")
        with Image.open(png) as im:
            tensors[view] = np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))
    save_file(tensors, str(case_dir / "views.safetensors"))
    return len(tensors)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    if not (src / "index.json").exists():
        raise SystemExit(f"{src}/index.json: not a conformance folder")
    if src != out:
        shutil.copytree(src, out, dirs_exist_ok=True)
    index = json.loads((out / "index.json").read_text())
    for case in index["cases"]:
        n = convert_case(out / "cases" / case["name"], case["views"])
        print(f"{case['name']}: {n} views")


if __name__ == "__main__":
    main()
