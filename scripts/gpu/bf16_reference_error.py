#!/usr/bin/env python3
"""How far a plain bf16 run of the reference model is from the conformance data.

The conformance README suggests max|a-b|/rms(b) <= 3e-2 and cosine >= 0.999 per stage for bf16
activations. This script measures what PyTorch itself reaches there, on the GPU machine, with
the same two pieces baseline_torch.py times:
- the decoder: transformers' DeepseekOcr2TextModel (the module the conformance data was made
  with) loaded from the folder's model/;
- the encoder: baseline_torch.py's plain PyTorch SAM + CLIP + projector.
Each runs in float32 (TF32 off: it must reproduce the data, which checks the loading) and in
bfloat16 (weights and activations, as `model.to(torch.bfloat16)` deploys it). The decoder is
fed the data's own image_embeds, so its figures are the decoder's alone; `e2e` rows feed it the
encoder's output of the same precision instead.

usage: bf16_reference_error.py GOLDEN_DIR [--cases a,b] [--json]
needs: torch, transformers >= 5 (DeepseekOcr2TextModel), safetensors, Pillow, numpy
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline_torch as bt  # noqa: E402


def rel_error(got, want):
    got, want = got.double().flatten(), want.double().flatten()
    rms = want.pow(2).mean().sqrt().item()
    diff = (got - want).abs().max().item()
    cos = torch.nn.functional.cosine_similarity(got, want, dim=0).item()
    return diff / rms if rms > 0 else float("inf"), cos


def view_pixels(path, dtype, device):
    with Image.open(path) as im:
        a = np.asarray(im.convert("RGB"), dtype=np.float32)
    t = torch.from_numpy((a / 255.0 - 0.5) / 0.5).permute(2, 0, 1).unsqueeze(0)
    return t.to(torch.bfloat16).to(device=device, dtype=dtype)  # the official model rounds pixels to bf16


def build(golden_model, device):
    cfg, files, shapes = bt.read_model_dir(golden_model)
    lm, sam, clip, proj_out = bt.configs_from_model_dir(cfg, shapes)
    model_cls, cfg_cls, _, _, _ = bt.decoder_classes()
    text_cfg, _ = bt.make_text_config(cfg_cls, lm)
    with torch.device(device):
        enc = bt.DeepEncoder(sam, clip, proj_out)
        dec = model_cls._from_config(text_cfg, attn_implementation="eager", dtype=torch.float32)
        lm_head = torch.nn.Linear(lm["hidden_size"], lm["vocab_size"], bias=False)
    for p in dec.parameters():
        p.data = p.data.float()
    bt.load_weights(files, enc, dec, lm_head, device)
    return enc.eval(), dec.eval(), lm_head.eval()


def encoder_stages(enc, case_dir, case, dtype, device):
    g = view_pixels(os.path.join(case_dir, "global.png"), dtype, device)
    out = {"sam_global": enc.sam_model(g), "proj_global": enc.views(g)[0]}
    tiles = [v for v in case["views"] if v != "global"]
    if tiles:
        t = torch.cat([view_pixels(os.path.join(case_dir, v + ".png"), dtype, device) for v in tiles])
        w, h = case["spatial_crop_w_h"]
        out["image_embeds"] = enc.pages(g, t, w, h)[0]
    else:
        out["image_embeds"] = enc.pages(g)[0]
    return out


def decoder_stages(dec, lm_head, ids, image_embeds):
    embed = dec.get_input_embeddings()
    e = embed(ids)
    e = e.masked_scatter((ids == bt.IMAGE_TOKEN).unsqueeze(-1), image_embeds.to(e.dtype))
    out = dec(inputs_embeds=e, output_hidden_states=True, use_cache=False)
    hs = out.hidden_states
    return {"lm_layer0": hs[1][0], "lm_final_norm": out.last_hidden_state[0],
            "prefill_logits": lm_head(out.last_hidden_state[0, -1])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("golden")
    ap.add_argument("--cases", default="")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with open(os.path.join(a.golden, "index.json")) as f:
        index = json.load(f)
    enc, dec, lm_head = build(os.path.join(a.golden, "model"), device)
    wanted = set(filter(None, a.cases.split(",")))
    rows = []
    with torch.no_grad():
        for case in index["cases"]:
            name = case["name"]
            if wanted and name not in wanted:
                continue
            case_dir = os.path.join(a.golden, "cases", name)
            with safe_open(os.path.join(case_dir, "tensors.safetensors"), framework="pt", device=str(device)) as sf:
                golden = {k: sf.get_tensor(k) for k in sf.keys()}
            ids = golden["input_ids"].long().unsqueeze(0)
            for label, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
                for m in (enc, dec, lm_head):  # parameters only: RoPE's fp32 buffers stay as they are
                    for p in m.parameters():
                        p.data = p.data.to(dtype)
                for m in enc.modules():  # resized position tables are cached in the parameters' dtype
                    for cache in ("_pos", "_rel"):
                        if isinstance(getattr(m, cache, None), dict):
                            setattr(m, cache, {})
                got = encoder_stages(enc, case_dir, case, dtype, device)
                for stage in ("sam_global", "proj_global", "image_embeds"):
                    want = golden[stage].reshape(got[stage].shape) if stage != "sam_global" else golden[stage]
                    rows.append((name, stage, label, *rel_error(got[stage].float(), want)))
                for source, embeds in (("data", golden["image_embeds"].to(dtype)), ("e2e", got["image_embeds"])):
                    d = decoder_stages(dec, lm_head, ids, embeds)
                    for stage in ("lm_layer0", "lm_final_norm", "prefill_logits"):
                        rows.append((name, stage if source == "data" else stage + "(e2e)", label,
                                     *rel_error(d[stage].float(), golden[stage])))
    if a.json:
        print(json.dumps([dict(case=r[0], stage=r[1], precision=r[2], rel_error=r[3], cosine=r[4]) for r in rows]))
        return
    print(f"{'case':16} {'stage':22} {'prec':5} {'rel_err':>9} {'cosine':>9}  {'over 3e-2':9}")
    for r in rows:
        flag = "OVER" if r[2] == "bf16" and (r[3] > 3e-2 or r[4] < 0.999) else ""
        print(f"{r[0]:16} {r[1]:22} {r[2]:5} {r[3]:9.3g} {r[4]:9.6f}  {flag}")
    print(f"\n{'stage':22} {'prec':5} {'rel_err range':>20} {'min cosine':>10} {'over':>6}")
    for stage in dict.fromkeys(r[1] for r in rows):
        for prec in ("fp32", "bf16"):
            sel = [r for r in rows if r[1] == stage and r[2] == prec]
            over = sum(r[3] > 3e-2 or r[4] < 0.999 for r in sel)
            print(f"{stage:22} {prec:5} {min(r[3] for r in sel):9.3g} - {max(r[3] for r in sel):<8.3g} "
                  f"{min(r[4] for r in sel):10.6f} {over:3}/{len(sel)}")
    bf = [r for r in rows if r[2] == "bf16"]
    over = [r for r in bf if r[3] > 3e-2 or r[4] < 0.999]
    fp = [r for r in rows if r[2] == "fp32"]
    print(f"fp32: largest rel_err {max(r[3] for r in fp):.3g}; bf16: {len(over)} of {len(bf)} stage figures over 3e-2")


if __name__ == "__main__":
    main()
