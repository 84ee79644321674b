#!/usr/bin/env python3
"""PyTorch eager baseline for `folio bench` (issue 3): the same work on the same GPU, so every
folio figure can be reported next to this one and as a ratio.

  encoder : a plain PyTorch DeepEncoder written here (SAM ViT-B -> CLIP-L fed with SAM features ->
            linear projector -> newline/separator layout), bf16, one batch per view size.
  decoder : transformers' `DeepseekOcr2TextModel` configured as DeepSeek-OCR v1's language model
            (docs/models/deepseek-ocr.md section 1), bf16, sdpa attention, transformers' default
            experts path, its own KV cache (DynamicCache via past_key_values), plus an untied
            lm_head. Greedy argmax.

Work per round: C pages (C = --concurrency) are encoded as one batch, their image rows are
scattered into the prompt embeddings (BOS + placeholders + 12 text tokens, the same prompt as
`folio bench`), the C prompts are prefilled as one batch and then decoded together for
--max-tokens steps (a static batch; with --ignore-eos every sequence runs exactly T tokens).

Prints ONE JSON object on stdout; key names follow `folio bench` (src/cli/cmd_bench.cpp) where the
meaning is the same. Needs torch (CUDA) and transformers >= 5 with DeepSeek-OCR-2 support.
"""
import argparse
import dataclasses
import glob
import importlib
import json
import math
import os
import sys
import time

# ---------------------------------------------------------------------------------------------
# Model numbers: docs/models/deepseek-ocr.md (sections 1-3). A --model folder overrides them
# with its config.json and tensor shapes.
LM_DEFAULTS = dict(
    vocab_size=129280, hidden_size=1280, num_hidden_layers=12, num_attention_heads=10,
    num_key_value_heads=10, intermediate_size=6848, moe_intermediate_size=896,
    n_routed_experts=64, num_experts_per_tok=6, n_shared_experts=2, first_k_dense_replace=1,
    moe_layer_freq=1, routed_scaling_factor=1.0, rms_norm_eps=1e-6, rope_theta=10000.0,
    max_position_embeddings=8192, bos_token_id=0, eos_token_id=1)
SAM_DEFAULTS = dict(width=768, layers=12, heads=12, mlp=3072, window=14, global_blocks=[2, 5, 8, 11],
                    pos_grid=64, patch=16, neck=256, down1=512, down2=1024)
CLIP_DEFAULTS = dict(width=1024, layers=24, heads=16, ffn=4096, pos_grid=16)
PROJ_OUT = 1280
IMAGE_TOKEN = 128815       # <image> placeholder id
PROMPT_TEXT_TOKENS = 12    # stands for "\n<|grounding|>Convert the document to markdown." (folio bench)
BASE_SIZE, TILE_SIZE = 1024, 640
# folio bench's synthetic page is an A4 scan at 144 dpi (1190 x 1684): Gundam picks 2 x 3 tiles.
GUNDAM_TILES_W, GUNDAM_TILES_H = 2, 3
DECODER_MODULES = ["transformers.models.deepseek_ocr2.modeling_deepseek_ocr2", "transformers"]
CONFIG_MODULES = ["transformers.models.deepseek_ocr2.configuration_deepseek_ocr2", "transformers"]


def parse_args():
    p = argparse.ArgumentParser(
        description="PyTorch eager baseline of `folio bench` (DeepSeek-OCR): encoder, prefill, "
                    "decode; prints one JSON object.")
    p.add_argument("--mode", choices=["base", "gundam"], default="base",
                   help="view mode of the pages: base = one 1024 view (273 image rows); gundam = "
                        "global 1024 view + 2x3 tiles of 640 (903 image rows)")
    p.add_argument("--pages", type=int, default=2,
                   help="measured ROUNDS after one warm-up round. A round is one static batch of "
                        "--concurrency pages: encode, prefill and decode together, so N rounds "
                        "process N x C pages. Also the number of measured single-page and batched "
                        "encoder runs.")
    p.add_argument("--concurrency", type=int, default=1,
                   help="sequences decoded together per step (static batch size C); the batched "
                        "encoder figure uses C pages per batch")
    p.add_argument("--max-tokens", type=int, default=32, help="decode steps per page (T)")
    p.add_argument("--ignore-eos", dest="ignore_eos", action="store_true", default=True,
                   help="decode exactly T tokens per sequence (EOS logit masked); the default")
    p.add_argument("--stop-at-eos", dest="ignore_eos", action="store_false",
                   help="stop the round when every sequence has produced EOS")
    p.add_argument("--model", default="",
                   help="folder in the official layout (config.json + *.safetensors, e.g. from "
                        "`folio model random`); without it the weights are random (seeded)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and pixels")
    p.add_argument("--attn", default="sdpa", help="decoder attn_implementation (default sdpa)")
    p.add_argument("--experts-impl", default="",
                   help="decoder experts_implementation (eager, grouped_mm, batched_mm); default: "
                        "transformers' own default")
    p.add_argument("--no-extra-gundam", action="store_true",
                   help="in base mode, skip the extra Gundam encoder measurement (folio bench "
                        "always adds it)")
    p.add_argument("--steps", action="store_true",
                   help="also print every decode step's time (decode.step_ms_raw, one list per round)")
    p.add_argument("--json", action="store_true", help="JSON output (the only format)")
    a = p.parse_args()
    if a.pages < 1 or a.concurrency < 1 or a.max_tokens < 1:
        p.error("--pages, --concurrency and --max-tokens must be >= 1")
    return a


def fail(msg):
    print(f"baseline_torch: {msg}", file=sys.stderr)
    sys.exit(2)


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - the GPU machine has torch
    fail(f"PyTorch is required ({e})")


def stats(v):
    """folio bench's stats (mean/min/p50/max/n) plus p90/p99; p_q = sorted[min(n-1, floor(q*n))]."""
    v = sorted(float(x) for x in v)
    n = len(v)
    if n == 0:
        return {"n": 0}
    pick = lambda q: v[min(n - 1, int(q * n))]
    return {"mean": sum(v) / n, "min": v[0], "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99),
            "max": v[-1], "n": n}


# ---------------------------------------------------------------------------------------------
# Encoder (plain PyTorch). Parameter names equal the official checkpoint's minus "model.".

class LayerNorm2d(nn.Module):
    """LayerNorm over channels of a [B, C, H, W] map (SAM neck), statistics in fp32."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        mu = xf.mean(1, keepdim=True)
        var = (xf - mu).pow(2).mean(1, keepdim=True)
        y = ((xf - mu) * torch.rsqrt(var + self.eps)).to(x.dtype)
        return y * self.weight[:, None, None] + self.bias[:, None, None]


class SamAttention(nn.Module):
    def __init__(self, dim, heads, rel_len):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.rel_pos_h = nn.Parameter(torch.randn(rel_len, self.head_dim) * 0.02)
        self.rel_pos_w = nn.Parameter(torch.randn(rel_len, self.head_dim) * 0.02)
        self._rel = {}  # size -> (R_h, R_w) [size, size, head_dim], built once per grid size

    def rel_tables(self, size):
        if size not in self._rel:
            need = 2 * size - 1
            out = []
            for t in (self.rel_pos_h, self.rel_pos_w):
                if t.shape[0] != need:  # global blocks at grids != 64: linear resize in fp32
                    t = F.interpolate(t.detach().float().t()[None], size=need, mode="linear",
                                      align_corners=False)[0].t().to(t.dtype)
                idx = torch.arange(size, device=t.device)
                rel = idx[:, None] - idx[None, :] + size - 1          # [size, size]
                out.append(t.detach()[rel])                            # [size, size, head_dim]
            self._rel[size] = tuple(out)
        return self._rel[size]

    def forward(self, x):  # x: [B, H, W, C]
        b, h, w, c = x.shape
        n = h * w
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)                                          # [B, nh, N, hd] each
        rh, rw = self.rel_tables(h)
        qg = q.reshape(b, self.heads, h, w, self.head_dim)
        rel_h = torch.einsum("bnyxc,ykc->bnyxk", qg, rh)                # [B, nh, H, W, H]
        rel_w = torch.einsum("bnyxc,xkc->bnyxk", qg, rw)                # [B, nh, H, W, W]
        bias = (rel_h[..., :, None] + rel_w[..., None, :]).reshape(b, self.heads, n, n)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)     # scale 1/sqrt(64)
        return self.proj(o.transpose(1, 2).reshape(b, h, w, c))


class SamMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.lin1 = nn.Linear(dim, hidden)
        self.lin2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.lin2(F.gelu(self.lin1(x)))


class SamBlock(nn.Module):
    def __init__(self, cfg, window, rel_len):
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(cfg["width"], eps=1e-6)
        self.attn = SamAttention(cfg["width"], cfg["heads"], rel_len)
        self.norm2 = nn.LayerNorm(cfg["width"], eps=1e-6)
        self.mlp = SamMlp(cfg["width"], cfg["mlp"])

    def forward(self, x):  # [B, G, G, C]
        shortcut = x
        x = self.norm1(x)
        if self.window:
            b, h, w, c = x.shape
            ws = self.window
            ph, pw = (ws - h % ws) % ws, (ws - w % ws) % ws
            x = F.pad(x, (0, 0, 0, pw, 0, ph))                           # zeros, not masked
            hp, wp = h + ph, w + pw
            x = x.view(b, hp // ws, ws, wp // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
            x = self.attn(x.reshape(-1, ws, ws, c))                      # [B*windows, ws, ws, C]
            x = x.view(b, hp // ws, wp // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
            x = x.reshape(b, hp, wp, c)[:, :h, :w]
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, patch, patch)


class SamEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, g = cfg["width"], cfg["pos_grid"]
        self.patch_embed = PatchEmbed(d, cfg["patch"])
        self.pos_embed = nn.Parameter(torch.randn(1, g, g, d) * 0.02)
        self.blocks = nn.ModuleList(
            SamBlock(cfg, 0 if i in cfg["global_blocks"] else cfg["window"],
                     2 * g - 1 if i in cfg["global_blocks"] else 2 * cfg["window"] - 1)
            for i in range(cfg["layers"]))
        self.neck = nn.Sequential(nn.Conv2d(d, cfg["neck"], 1, bias=False), LayerNorm2d(cfg["neck"]),
                                  nn.Conv2d(cfg["neck"], cfg["neck"], 3, padding=1, bias=False),
                                  LayerNorm2d(cfg["neck"]))
        self.net_2 = nn.Conv2d(cfg["neck"], cfg["down1"], 3, stride=2, padding=1, bias=False)
        self.net_3 = nn.Conv2d(cfg["down1"], cfg["down2"], 3, stride=2, padding=1, bias=False)
        self._pos = {}

    def pos(self, g):
        if g == self.pos_embed.shape[1]:
            return self.pos_embed
        if g not in self._pos:  # bicubic antialias resize in fp32, cast back (official get_abs_pos)
            p = F.interpolate(self.pos_embed.detach().float().permute(0, 3, 1, 2), size=(g, g),
                              mode="bicubic", antialias=True, align_corners=False)
            self._pos[g] = p.to(self.pos_embed.dtype).permute(0, 2, 3, 1).contiguous()
        return self._pos[g]

    def forward(self, px):  # [B, 3, S, S] -> [B, down2, S/64, S/64]
        x = self.patch_embed.proj(px).permute(0, 2, 3, 1)               # [B, G, G, 768]
        x = x + self.pos(x.shape[1])
        for blk in self.blocks:
            x = blk(x)
        x = self.neck(x.permute(0, 3, 1, 2))                             # [B, 256, G, G]
        return self.net_3(self.net_2(x))                                 # [B, 1024, G/4, G/4]


class ClipEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, g = cfg["width"], cfg["pos_grid"]
        self.class_embedding = nn.Parameter(torch.randn(d) * 0.02)
        self.patch_embedding = nn.Conv2d(3, d, 14, 14, bias=False)       # stored, never used
        self.position_embedding = nn.Embedding(g * g + 1, d)
        nn.init.normal_(self.position_embedding.weight, std=0.02)
        self.grid = g
        self._pos = {}

    def pos(self, g):
        table = self.position_embedding.weight
        if g == self.grid:
            return table
        if g not in self._pos:
            grid = table[1:].detach().float().reshape(1, self.grid, self.grid, -1).permute(0, 3, 1, 2)
            grid = F.interpolate(grid, size=(g, g), mode="bicubic", antialias=True, align_corners=False)
            grid = grid.permute(0, 2, 3, 1).reshape(g * g, -1).to(table.dtype)
            self._pos[g] = torch.cat([table[:1].detach(), grid], 0)
        return self._pos[g]


class ClipAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv_proj = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x):  # [B, N, C]
        b, n, c = x.shape
        q, k, v = self.qkv_proj(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        o = F.scaled_dot_product_attention(q, k, v)                      # no mask, scale 1/8
        return self.out_proj(o.transpose(1, 2).reshape(b, n, c))


class ClipMlp(nn.Module):
    def __init__(self, dim, ffn):
        super().__init__()
        self.fc1 = nn.Linear(dim, ffn)
        self.fc2 = nn.Linear(ffn, dim)

    def forward(self, x):
        h = self.fc1(x)
        return self.fc2(h * torch.sigmoid(1.702 * h))                    # quick_gelu


class ClipLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(cfg["width"], eps=1e-5)
        self.self_attn = ClipAttention(cfg["width"], cfg["heads"])
        self.layer_norm2 = nn.LayerNorm(cfg["width"], eps=1e-5)
        self.mlp = ClipMlp(cfg["width"], cfg["ffn"])

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class ClipTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList(ClipLayer(cfg) for _ in range(cfg["layers"]))


class ClipVision(nn.Module):
    """CLIP-L whose patch tokens are SAM's net_3 output; no post-LN; class token dropped."""

    def __init__(self, cfg):
        super().__init__()
        self.embeddings = ClipEmbeddings(cfg)
        self.pre_layrnorm = nn.LayerNorm(cfg["width"], eps=1e-5)
        self.transformer = ClipTransformer(cfg)

    def forward(self, sam):  # [B, 1024, g, g] -> [B, g*g, 1024]
        b, _, g, _ = sam.shape
        x = sam.flatten(2).transpose(1, 2)                               # [B, g*g, 1024]
        cls = self.embeddings.class_embedding.to(x.dtype).expand(b, 1, -1)
        x = torch.cat([cls, x], 1) + self.embeddings.pos(g)              # [B, g*g+1, 1024]
        x = self.pre_layrnorm(x)
        for layer in self.transformer.layers:
            x = layer(x)
        return x[:, 1:]


class Projector(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.layers = nn.Linear(n_in, n_out)


class DeepEncoder(nn.Module):
    def __init__(self, sam_cfg, clip_cfg, proj_out):
        super().__init__()
        self.sam_model = SamEncoder(sam_cfg)
        self.vision_model = ClipVision(clip_cfg)
        self.projector = Projector(clip_cfg["width"] + sam_cfg["down2"], proj_out)
        self.image_newline = nn.Parameter(torch.randn(proj_out) * 0.02)
        self.view_seperator = nn.Parameter(torch.randn(proj_out) * 0.02)

    def views(self, px):  # [B, 3, S, S] -> [B, g*g, 1280]
        sam = self.sam_model(px)
        clip = self.vision_model(sam)
        feats = torch.cat([clip, sam.flatten(2).transpose(1, 2)], -1)   # CLIP first, SAM second
        return self.projector.layers(feats)

    def with_newlines(self, grid):  # [P, rows, cols, C] -> [P, rows*(cols+1), C]
        p, r, c, d = grid.shape
        nl = self.image_newline.to(grid.dtype).expand(p, r, 1, d)
        return torch.cat([grid, nl], 2).reshape(p, r * (c + 1), d)

    def pages(self, global_px, tiles_px=None, tiles_w=0, tiles_h=0):
        """Image rows per page, official order: [local grid + newlines] [global + newlines] [separator].
        global_px [P, 3, 1024, 1024]; tiles_px [P*tiles_w*tiles_h, 3, 640, 640] (row-major per page)."""
        g = self.views(global_px)                                        # [P, 256, C]
        p, n, d = g.shape
        s = math.isqrt(n)
        parts = []
        if tiles_px is not None:
            t = self.views(tiles_px)                                     # [P*n_tiles, 100, C]
            q = math.isqrt(t.shape[1])
            t = t.view(p, tiles_h, tiles_w, q, q, d).permute(0, 1, 3, 2, 4, 5)
            parts.append(self.with_newlines(t.reshape(p, tiles_h * q, tiles_w * q, d)))
        parts.append(self.with_newlines(g.view(p, s, s, d)))
        parts.append(self.view_seperator.to(g.dtype).expand(p, 1, d))
        return torch.cat(parts, 1)                                       # [P, rows, C]


def image_rows(mode):
    base = (BASE_SIZE // 64) * (BASE_SIZE // 64 + 1) + 1                  # 273
    if mode == "base":
        return base
    q = TILE_SIZE // 64
    return base + (q * GUNDAM_TILES_W + 1) * (q * GUNDAM_TILES_H)        # 273 + 630 = 903


def page_pixels(mode, pages, device, gen):
    """Synthetic normalised bf16 pixels in [-1, 1] (content does not change the work)."""
    g = (torch.rand(pages, 3, BASE_SIZE, BASE_SIZE, generator=gen, device=device) * 2 - 1).to(torch.bfloat16)
    if mode == "base":
        return g, None
    n = pages * GUNDAM_TILES_W * GUNDAM_TILES_H
    t = (torch.rand(n, 3, TILE_SIZE, TILE_SIZE, generator=gen, device=device) * 2 - 1).to(torch.bfloat16)
    return g, t


def encode(enc, mode, px):
    g, t = px
    if mode == "base":
        return enc.pages(g)
    return enc.pages(g, t, GUNDAM_TILES_W, GUNDAM_TILES_H)


# ---------------------------------------------------------------------------------------------
# Decoder: transformers' DeepseekOcr2TextModel.

def find_attr(modules, names):
    tried = []
    for mod_name in modules:
        try:
            mod = importlib.import_module(mod_name)
        except Exception as e:  # noqa: BLE001 - report every failed import
            tried.append(f"{mod_name} ({type(e).__name__}: {e})")
            continue
        for n in names:
            try:
                obj = getattr(mod, n, None)
            except Exception as e:  # noqa: BLE001 - lazy modules raise on a failed sub-import
                tried.append(f"{mod_name}.{n} ({type(e).__name__}: {e})")
                continue
            if obj is not None:
                return obj, f"{mod_name}.{n}"
        tried.append(f"{mod_name} (no {', '.join(names)})")
    return None, "; ".join(tried)


def decoder_classes():
    try:
        import transformers
    except ImportError as e:
        fail(f"transformers is required ({e})")
    model_cls, where_m = find_attr(DECODER_MODULES, ["DeepseekOcr2TextModel"])
    cfg_cls, where_c = find_attr(CONFIG_MODULES, ["DeepseekOcr2TextConfig"])
    if model_cls is None or cfg_cls is None:
        hint = ""
        try:
            import transformers.models as tm
            hint = " DeepSeek-OCR modules in this transformers: " + ", ".join(
                sorted(n for n in dir(tm) if "deepseek" in n.lower()))
        except Exception:  # noqa: BLE001
            pass
        fail(f"transformers {transformers.__version__} has no DeepseekOcr2TextModel/"
             f"DeepseekOcr2TextConfig (looked in: {where_m if model_cls is None else where_c}); "
             f"transformers >= 5 with DeepSeek-OCR-2 is required.{hint}")
    return model_cls, cfg_cls, where_m, where_c, transformers.__version__


def config_fields(cls):
    names = set()
    for k in cls.__mro__:
        names |= set(getattr(k, "__annotations__", {}).keys())
    try:
        names |= {f.name for f in dataclasses.fields(cls)}
    except TypeError:
        pass
    return names


def make_text_config(cfg_cls, lm):
    layers = lm["num_hidden_layers"]
    mlp_types = ["sparse" if (i >= lm["first_k_dense_replace"] and i % lm["moe_layer_freq"] == 0) else "dense"
                 for i in range(layers)]
    want = dict(
        vocab_size=lm["vocab_size"], hidden_size=lm["hidden_size"], intermediate_size=lm["intermediate_size"],
        moe_intermediate_size=lm["moe_intermediate_size"], num_hidden_layers=layers,
        num_attention_heads=lm["num_attention_heads"], num_key_value_heads=lm["num_key_value_heads"],
        n_routed_experts=lm["n_routed_experts"], num_experts_per_tok=lm["num_experts_per_tok"],
        n_shared_experts=lm["n_shared_experts"], routed_scaling_factor=lm["routed_scaling_factor"],
        topk_method="greedy", n_group=1, topk_group=1, norm_topk_prob=False, scoring_func="softmax",
        first_k_dense_replace=lm["first_k_dense_replace"], mlp_layer_types=mlp_types,
        hidden_act="silu", attention_bias=False, mlp_bias=False, rms_norm_eps=lm["rms_norm_eps"],
        max_position_embeddings=lm["max_position_embeddings"], bos_token_id=lm["bos_token_id"],
        eos_token_id=lm["eos_token_id"], pad_token_id=None, tie_word_embeddings=False, use_cache=True,
        rope_parameters={"rope_type": "default", "rope_theta": lm["rope_theta"]}, rope_theta=lm["rope_theta"],
        use_mla=False, q_lora_rank=None, kv_lora_rank=None)
    known = config_fields(cfg_cls)
    if "rope_parameters" in known:
        want.pop("rope_theta")
    kwargs = {k: v for k, v in want.items() if k in known} if known else dict(want)
    dropped = sorted(set(want) - set(kwargs))
    try:
        cfg = cfg_cls(**kwargs)
    except Exception as e:  # noqa: BLE001
        fail(f"{cfg_cls.__name__}(**{kwargs}) failed: {type(e).__name__}: {e}")
    # Layer kinds must come out as DeepSeek-OCR's (layer 0 dense, 1..11 MoE) whatever field names this
    # transformers uses.
    if getattr(cfg, "mlp_layer_types", None) in (None, []):
        try:
            cfg.mlp_layer_types = mlp_types
        except Exception:  # noqa: BLE001
            pass
    checks = {"hidden_size": lm["hidden_size"], "num_hidden_layers": layers,
              "num_attention_heads": lm["num_attention_heads"], "n_routed_experts": lm["n_routed_experts"],
              "num_experts_per_tok": lm["num_experts_per_tok"], "moe_intermediate_size": lm["moe_intermediate_size"]}
    bad = {k: (getattr(cfg, k, None), v) for k, v in checks.items() if getattr(cfg, k, None) != v}
    if bad:
        fail(f"{cfg_cls.__name__} did not take the DeepSeek-OCR numbers: {bad}")
    return cfg, dropped


def build_decoder(model_cls, cfg, attn, experts_impl, device):
    dt = torch.bfloat16
    with torch.device(device):
        model = None
        errors = []
        for kw in ({"attn_implementation": attn, "dtype": dt}, {"attn_implementation": attn, "torch_dtype": dt}):
            try:
                model = model_cls._from_config(cfg, **kw)
                break
            except TypeError as e:
                errors.append(str(e))
        if model is None:
            try:  # plain constructor; dtype and attention are set below
                model = model_cls(cfg)
            except Exception as e:  # noqa: BLE001
                fail(f"could not build {model_cls.__name__} from its config: {errors}; {type(e).__name__}: {e}")
    for p in model.parameters():  # weights only; leave fp32 buffers (RoPE inv_freq) alone
        if p.dtype != dt:
            p.data = p.data.to(dt)
    if getattr(model.config, "_attn_implementation", attn) != attn and hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(attn)
    if experts_impl and hasattr(model, "set_experts_implementation"):
        model.set_experts_implementation(experts_impl)
    return model.eval()


# ---------------------------------------------------------------------------------------------
# Optional checkpoint (official layout).

def read_model_dir(path):
    cfg_path = os.path.join(path, "config.json")
    if not os.path.isfile(cfg_path):
        fail(f"{path}: no config.json (expected an official-layout folder, e.g. from `folio model random`)")
    with open(cfg_path) as f:
        cfg = json.load(f)
    idx = os.path.join(path, "model.safetensors.index.json")
    if os.path.isfile(idx):
        with open(idx) as f:
            files = sorted({os.path.join(path, v) for v in json.load(f)["weight_map"].values()})
    else:
        files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
    if not files:
        fail(f"{path}: no *.safetensors files")
    try:
        from safetensors import safe_open
    except ImportError as e:
        fail(f"--model needs the safetensors package ({e})")
    shapes = {}
    for fn in files:
        with safe_open(fn, framework="pt") as sf:
            for k in sf.keys():
                shapes[k] = list(sf.get_slice(k).get_shape())
    return cfg, files, shapes


def configs_from_model_dir(cfg, shapes):
    def key(k, default):  # top level first (hub code), then language_config (vLLM), as folio
        if cfg.get(k) is not None:
            return cfg[k]
        lc = cfg.get("language_config") or {}
        return lc[k] if lc.get(k) is not None else default

    lm = {k: type(v)(key(k, v)) for k, v in LM_DEFAULTS.items()}
    if key("use_mla", False):
        fail("config.json: use_mla=true is not DeepSeek-OCR v1")
    if str(key("scoring_func", "softmax")) != "softmax" or bool(key("norm_topk_prob", False)):
        fail("config.json: only softmax routing without top-k renormalisation is modelled")
    widths = ((cfg.get("vision_config") or {}).get("width") or {})
    s, c = widths.get("sam_vit_b", {}), widths.get("clip-l-14-224", {})
    sam = dict(SAM_DEFAULTS)
    sam.update(width=s.get("width", sam["width"]), layers=s.get("layers", sam["layers"]),
               heads=s.get("heads", sam["heads"]), global_blocks=list(s.get("global_attn_indexes", sam["global_blocks"])))
    clip = dict(CLIP_DEFAULTS)
    clip.update(width=c.get("width", clip["width"]), layers=c.get("layers", clip["layers"]),
                heads=c.get("heads", clip["heads"]))
    shape = lambda k: shapes.get(k)
    if shape("model.sam_model.blocks.0.mlp.lin1.weight"):
        sam["mlp"] = shape("model.sam_model.blocks.0.mlp.lin1.weight")[0]
    if shape("model.sam_model.neck.0.weight"):
        sam["neck"] = shape("model.sam_model.neck.0.weight")[0]
    if shape("model.sam_model.net_2.weight"):
        sam["down1"] = shape("model.sam_model.net_2.weight")[0]
    if shape("model.sam_model.net_3.weight"):
        sam["down2"] = shape("model.sam_model.net_3.weight")[0]
    if shape("model.sam_model.pos_embed"):
        sam["pos_grid"] = shape("model.sam_model.pos_embed")[1]
    if shape("model.vision_model.transformer.layers.0.mlp.fc1.weight"):
        clip["ffn"] = shape("model.vision_model.transformer.layers.0.mlp.fc1.weight")[0]
    pe = shape("model.vision_model.embeddings.position_embedding.weight")
    if pe:
        clip["pos_grid"] = math.isqrt(pe[0] - 1)
    proj_out = (cfg.get("projector_config") or {}).get("n_embed", lm["hidden_size"])
    return lm, sam, clip, proj_out


def load_weights(files, enc, dec, lm_head, device):
    """Copy official-layout tensors into the encoder (names minus "model."), the transformers
    decoder (names minus "model."; per-expert tensors packed into fused expert tensors when this
    transformers stores experts that way) and the lm_head. Every target must be filled."""
    from safetensors import safe_open
    targets = {}
    for n, p in enc.named_parameters():
        targets["model." + n] = p
    for n, p in dec.named_parameters():
        targets["model." + n] = p
    targets["lm_head.weight"] = lm_head.weight
    filled, unused = set(), []
    fused = {n for n in targets if n.endswith(".mlp.experts.gate_up_proj") or n.endswith(".mlp.experts.down_proj")}
    for fn in files:
        with safe_open(fn, framework="pt", device=str(device)) as sf:
            for k in sf.keys():
                t = sf.get_tensor(k)
                if k in targets:
                    dst = targets[k]
                    if list(dst.shape) != list(t.shape):
                        fail(f"{fn}: {k} has shape {list(t.shape)}, the model expects {list(dst.shape)}")
                    dst.data.copy_(t)
                    filled.add(k)
                    continue
                parts = k.split(".")
                # model.layers.L.mlp.experts.E.{gate,up,down}_proj.weight
                if len(parts) == 8 and parts[3:5] == ["mlp", "experts"] and parts[7] == "weight":
                    base, e, which = ".".join(parts[:5]), int(parts[5]), parts[6]
                    if which in ("gate_proj", "up_proj") and base + ".gate_up_proj" in fused:
                        dst = targets[base + ".gate_up_proj"]                # [E, 2I, H], gate rows first
                        half = dst.shape[1] // 2
                        sl = slice(0, half) if which == "gate_proj" else slice(half, 2 * half)
                        dst.data[e, sl].copy_(t)
                        filled.add(f"{base}.gate_up_proj[{e}].{which}")
                        continue
                    if which == "down_proj" and base + ".down_proj" in fused:
                        targets[base + ".down_proj"].data[e].copy_(t)        # [E, H, I]
                        filled.add(f"{base}.down_proj[{e}]")
                        continue
                unused.append(k)
    missing = []
    for n, p in targets.items():
        if n in fused:
            e_count = p.shape[0]
            subs = ([f"{n}[{e}].gate_proj" for e in range(e_count)] + [f"{n}[{e}].up_proj" for e in range(e_count)]
                    if n.endswith("gate_up_proj") else [f"{n}[{e}]" for e in range(e_count)])
            if n not in filled and not all(s in filled for s in subs):
                missing.append(n)
        elif n not in filled:
            missing.append(n)
    unused = [k for k in unused if "patch_embedding" not in k]
    if missing:
        fail(f"checkpoint does not fill {len(missing)} tensors, e.g. {missing[:5]}")
    return unused


# ---------------------------------------------------------------------------------------------
# One round: encode C pages, prefill C prompts, decode T steps together.

def prompt_ids(n_rows, bos, batch, device):
    ids = [bos] + [IMAGE_TOKEN] * n_rows + [300 + 7 * i for i in range(PROMPT_TEXT_TOKENS)]
    return torch.tensor(ids, dtype=torch.long, device=device).unsqueeze(0).expand(batch, -1).contiguous()


class Timer:
    def __init__(self):
        self.a = torch.cuda.Event(enable_timing=True)
        self.b = torch.cuda.Event(enable_timing=True)

    def start(self):
        self.a.record()
        return self

    def stop(self):
        self.b.record()
        return self

    def ms(self):
        return self.a.elapsed_time(self.b)


def run_round(enc, dec, lm_head, mode, px, ids, steps, eos, ignore_eos, mem):
    embed = getattr(dec, "embed_tokens", None) or dec.get_input_embeddings()
    t_enc, t_pre = Timer(), Timer()
    torch.cuda.reset_peak_memory_stats()
    t_enc.start()
    rows = encode(enc, mode, px)                                         # [C, n_rows, 1280]
    t_enc.stop()
    torch.cuda.synchronize()
    mem["encoder"] = max(mem.get("encoder", 0), torch.cuda.max_memory_allocated())
    torch.cuda.reset_peak_memory_stats()
    t_pre.start()
    emb = embed(ids)                                                     # [C, L, 1280]
    emb = emb.masked_scatter((ids == IMAGE_TOKEN).unsqueeze(-1), rows.to(emb.dtype))
    out = dec(inputs_embeds=emb, use_cache=True)
    cache = out.past_key_values
    logits = lm_head(out.last_hidden_state[:, -1]).float()               # [C, vocab]
    t_pre.stop()
    torch.cuda.synchronize()
    mem["prefill"] = max(mem.get("prefill", 0), torch.cuda.max_memory_allocated())
    torch.cuda.reset_peak_memory_stats()
    batch = ids.shape[0]
    finished = torch.zeros(batch, dtype=torch.bool, device=ids.device)
    produced = torch.zeros(batch, dtype=torch.long, device=ids.device)
    step_timers = []
    wall0 = time.perf_counter()
    for _ in range(steps):
        t = Timer().start()
        if ignore_eos:
            logits[:, eos] = -math.inf
        tok = logits.argmax(-1)                                          # [C]
        if not ignore_eos:
            produced += (~finished).long()
            finished |= tok == eos
        out = dec(input_ids=tok[:, None], past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        logits = lm_head(out.last_hidden_state[:, -1]).float()
        step_timers.append(t.stop())
        if not ignore_eos and bool(finished.all()):
            break
    torch.cuda.synchronize()
    wall = (time.perf_counter() - wall0) * 1000.0
    mem["decode"] = max(mem.get("decode", 0), torch.cuda.max_memory_allocated())
    step_ms = [t.ms() for t in step_timers]
    n_steps = len(step_ms)
    tokens = batch * n_steps if ignore_eos else int(produced.sum())
    decode_ms = step_timers[0].a.elapsed_time(step_timers[-1].b)
    cache_cls = type(cache).__name__
    del out, cache, logits, emb, rows
    return dict(encoder_ms=t_enc.ms(), prefill_ms=t_pre.ms(), decode_ms=decode_ms, decode_wall_ms=wall,
                step_ms=step_ms, steps=n_steps, tokens=tokens, cache=cache_cls)


def bench_encoder(enc, mode, pages, batch, device, gen):
    """folio bench's encoder figure (one page at a time, after a warm-up) plus a batch of C pages."""
    out = {"mode": mode, "views": 1 + (0 if mode == "base" else GUNDAM_TILES_W * GUNDAM_TILES_H),
           "image_tokens": image_rows(mode)}
    for b, key in ((1, "ms"), (batch, "batch_ms")):
        if key == "batch_ms" and batch == 1:
            break
        px = page_pixels(mode, b, device, gen)
        encode(enc, mode, px)                                            # warm-up
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        ms = []
        for _ in range(pages):
            t = Timer().start()
            encode(enc, mode, px)
            ms.append(t.stop())
        torch.cuda.synchronize()
        ms = [t.ms() for t in ms]
        out[key] = stats(ms)
        if key == "batch_ms":
            out["batch"] = b
            out["batch_ms_per_page"] = stats([m / b for m in ms])
            out["batch_peak_bytes"] = torch.cuda.max_memory_allocated()
        else:
            out["peak_bytes"] = torch.cuda.max_memory_allocated()
        del px
    torch.cuda.empty_cache()
    return out


def main():
    a = parse_args()
    if not torch.cuda.is_available():
        fail("no CUDA device visible to PyTorch")
    device = torch.device("cuda")
    torch.manual_seed(a.seed)
    model_cls, cfg_cls, where_m, where_c, tf_version = decoder_classes()

    t_load = time.perf_counter()
    lm, sam, clip, proj_out = dict(LM_DEFAULTS), dict(SAM_DEFAULTS), dict(CLIP_DEFAULTS), PROJ_OUT
    files = None
    if a.model:
        raw_cfg, files, shapes = read_model_dir(a.model)
        lm, sam, clip, proj_out = configs_from_model_dir(raw_cfg, shapes)
    text_cfg, dropped = make_text_config(cfg_cls, lm)

    with torch.no_grad():
        with torch.device(device):
            enc = DeepEncoder(sam, clip, proj_out)
        enc = enc.to(torch.bfloat16).eval()
        dec = build_decoder(model_cls, text_cfg, a.attn, a.experts_impl, device)
        with torch.device(device):
            lm_head = nn.Linear(lm["hidden_size"], lm["vocab_size"], bias=False, dtype=torch.bfloat16)
            nn.init.normal_(lm_head.weight, std=0.02)
        lm_head.eval()
        unused = load_weights(files, enc, dec, lm_head, device) if files else []
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    load_ms = (time.perf_counter() - t_load) * 1000.0
    weight_bytes = {name: sum(p.numel() * p.element_size() for p in m.parameters())
                    for name, m in (("encoder", enc), ("decoder", dec), ("lm_head", lm_head))}

    gen = torch.Generator(device=device)
    gen.manual_seed(a.seed)
    c, T, eos = a.concurrency, a.max_tokens, lm["eos_token_id"]
    out = {
        "baseline": "pytorch-eager",
        "device": "cuda",
        "gpu": torch.cuda.get_device_name(device),
        "torch": torch.__version__,
        "transformers": tf_version,
        "model": a.model,
        "weights": f"loaded from {a.model}" if a.model else f"random (seed {a.seed})",
        "decoder_weights": "bf16",
        "load_ms": load_ms,
        "mode": a.mode,
        "pages": a.pages,
        "max_tokens": T,
        "ignore_eos": a.ignore_eos,
    }
    if unused:
        out["checkpoint_tensors_unused"] = unused[:20]

    with torch.inference_mode():
        # Encoder figures, as folio bench: the run's mode, plus Gundam when the mode is Base.
        out["encoder"] = [bench_encoder(enc, a.mode, a.pages, c, device, gen)]
        if a.mode != "gundam" and not a.no_extra_gundam:
            out["encoder"].append(bench_encoder(enc, "gundam", a.pages, c, device, gen))

        # Rounds: one warm-up (a few decode steps), then --pages measured rounds.
        n_rows = image_rows(a.mode)
        ids = prompt_ids(n_rows, lm["bos_token_id"], c, device)
        px = page_pixels(a.mode, c, device, gen)
        mem = {}
        run_round(enc, dec, lm_head, a.mode, px, ids, min(T, 4), eos, a.ignore_eos, {})
        torch.cuda.synchronize()
        rounds = [run_round(enc, dec, lm_head, a.mode, px, ids, T, eos, a.ignore_eos, mem) for _ in range(a.pages)]

    steps_all = [s for r in rounds for s in r["step_ms"]]
    total_ms = [r["encoder_ms"] + r["prefill_ms"] + r["decode_ms"] for r in rounds]
    out["prefill"] = {"tokens": int(ids.shape[1]), "batch": c, "ms": stats([r["prefill_ms"] for r in rounds])}
    out["round_encoder_ms"] = stats([r["encoder_ms"] for r in rounds])
    # Time to first token: the batch's encoder + prefill (the first token is the prefill's argmax).
    out["time_to_first_token_ms"] = stats([r["encoder_ms"] + r["prefill_ms"] for r in rounds])
    out["decode"] = {
        "tokens_per_page": T,
        "batch": c,
        # Output tokens per second of the whole batch, decode steps only.
        "tokens_per_s": stats([r["tokens"] * 1000.0 / r["decode_ms"] for r in rounds]),
        # Time per decode step = time per output token of one stream (mean of a round).
        "ms_per_token": stats([r["decode_ms"] / max(1, r["steps"]) for r in rounds]),
        # Every step of every measured round, for p50/p90/p99.
        "step_ms": stats(steps_all),
        "wall_ms_per_token": stats([r["decode_wall_ms"] / max(1, r["steps"]) for r in rounds]),
    }
    if a.steps:
        out["decode"]["step_ms_raw"] = [[round(x, 3) for x in r["step_ms"]] for r in rounds]
    out["output_tokens_per_s"] = stats([r["tokens"] * 1000.0 / t for r, t in zip(rounds, total_ms)])
    out["pages_per_s"] = stats([c * 1000.0 / t for t in total_ms])
    out["round_ms"] = stats(total_ms)
    out["concurrency"] = c
    out["peak_device_memory_bytes"] = max(mem.values()) if mem else 0
    out["device_memory"] = {
        "weights_bytes": weight_bytes,
        "peak_round_encoder_bytes": mem.get("encoder", 0),
        "peak_round_prefill_bytes": mem.get("prefill", 0),
        "peak_round_decode_bytes": mem.get("decode", 0),
        "max_reserved_bytes": torch.cuda.max_memory_reserved(),
    }
    out["config"] = {
        "decoder_class": where_m,
        "decoder_config_class": where_c,
        "attn_implementation": getattr(dec.config, "_attn_implementation", None),
        "experts_implementation": getattr(dec.config, "_experts_implementation", None),
        "kv_cache": rounds[0]["cache"] if rounds else None,
        "decoder": {k: lm[k] for k in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                       "num_key_value_heads", "intermediate_size", "moe_intermediate_size",
                                       "n_routed_experts", "num_experts_per_tok", "n_shared_experts",
                                       "first_k_dense_replace", "rope_theta", "rms_norm_eps")},
        "decoder_mlp_layer_types": list(getattr(dec.config, "mlp_layer_types", None) or []),
        "decoder_config_keys_not_taken": dropped,
        "routing": "softmax over experts, greedy top-k, no renormalisation (transformers DeepseekOcr2TextMoe)",
        "encoder": {"sam": sam, "clip": clip, "projector_out": proj_out,
                    "implementation": "plain PyTorch (this script), sdpa with the rel-pos bias as attn_mask"},
        "prompt": f"BOS + {n_rows} image placeholders + {PROMPT_TEXT_TOKENS} text tokens",
        "gundam_tiles": [GUNDAM_TILES_W, GUNDAM_TILES_H],
        "dtype": "bfloat16",
        "decoding": "greedy argmax" + (", EOS masked" if a.ignore_eos else ", stop when all sequences hit EOS"),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
