"""Random-weight models with the exact decoder shapes of catalog models (issue 12), as transformers.js hub folders.

  /usr/bin/python3 tools/slm/scale.py --shape smollm2-135m --dtypes fp32,q8,q4 --out .cache/scale-models/x

Driven by scripts/models-scale.ts (`npm run models:scale`), which picks the cache folder by content. Reuses this
folder's model (model.py), ONNX export (export.py) and quantizers (quantize.py): the graphs are the ones the embedded
models ship, only the sizes differ. Weights: seeded normal init (see build_model), so logits have a sane spread and greedy decoding wanders
over the vocabulary (checked by sanity() on every run).
The vocabulary is the embedded models' byte-level BPE (public/models/slm-pocket/tokenizer.json, 512 tokens) padded
with unused tokens to the real model's size, so the embedding and the LM head cost what they cost.
A file over ONNX's 2 GB protobuf limit (or any fp32 file with --external-data always) is written with external data,
`onnx/model.onnx` + `onnx/model.onnx_data`, the layout hub models use; config.json's `transformers.js_config`
tells transformers.js to fetch it.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, LlamaLM  # noqa: E402
from export import export_onnx  # noqa: E402
from quantize import quantize_q4, quantize_q8  # noqa: E402
from tok import ENDOFTEXT, IM_END, Tokenizer, write_tokenizer_files  # noqa: E402

TOOL_VERSION = 2

# Decoder shapes. Values are those of the models' own config.json on the Hugging Face hub:
# HuggingFaceTB/SmolLM2-135M-Instruct and -360M-Instruct (model_type llama: rope_theta 100000, rms_norm_eps 1e-5,
# max_position_embeddings 8192, vocab 49152, tied embeddings, no biases) and Qwen/Qwen2.5-0.5B-Instruct (model_type
# qwen2: rope_theta 1e6, rms_norm_eps 1e-6, max_position_embeddings 32768, vocab 151936, tied embeddings, biases on
# q/k/v only). head_dim = hidden / heads = 64 in all three.
SHAPES = {
    "smollm2-135m": dict(model_type="llama", qkv_bias=False, cfg=dict(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
        num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0)),
    "smollm2-360m": dict(model_type="llama", qkv_bias=False, cfg=dict(
        vocab_size=49152, hidden_size=960, intermediate_size=2560, num_hidden_layers=32, num_attention_heads=15,
        num_key_value_heads=5, max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0)),
    "qwen2.5-0.5b": dict(model_type="qwen2", qkv_bias=True, cfg=dict(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
        num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0)),
    # CI size (tests/e2e/scale-parity.test.ts): SmolLM2's real vocabulary and head size, 4 narrow layers,
    # ~15.7M parameters (~113 MB fp32 with the untied copy of the LM head the export folds).
    "ci": dict(model_type="llama", qkv_bias=False, cfg=dict(
        vocab_size=49152, hidden_size=256, intermediate_size=768, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0)),
    # The same at Qwen2's layout (biases on q/k/v, rms_norm_eps and rope_theta of Qwen2.5): the int8 step's tests
    # (tests/int8-session-node.test.ts), ~15.7M parameters.
    "ci-qwen2": dict(model_type="qwen2", qkv_bias=True, cfg=dict(
        vocab_size=49152, hidden_size=256, intermediate_size=768, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=8192, rms_norm_eps=1e-6, rope_theta=1000000.0)),
    # Storage tests (tests/e2e/storage.test.ts): a fp32 file over 300 MB made in seconds: 2 narrow layers and a
    # padded vocabulary of 160,000 ids (embedding + the export's untied LM head: 2 x 160000 x 256 x 4 B = 328 MB).
    "bigvocab": dict(model_type="llama", qkv_bias=False, cfg=dict(
        vocab_size=160000, hidden_size=256, intermediate_size=768, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=2048, rms_norm_eps=1e-5, rope_theta=100000.0)),
}
DTYPE_FILES = {"fp32": "model.onnx", "q8": "model_quantized.onnx", "q4": "model_q4.onnx"}


def build_model(shape, seed):
    spec = SHAPES[shape]
    torch.manual_seed(seed)
    model = LlamaLM(Config(**spec["cfg"], tie_word_embeddings=True))
    with torch.no_grad():
        # Projections at std 1/sqrt(fan_in) (embeddings keep model.py's 0.02, which sets the logits' spread through
        # the tied head). model.py's training init (0.02 everywhere, output projections / sqrt(2 * layers)) leaves the
        # residual stream dominated by the current token's embedding or by a context average: measured, greedy
        # decoding repeated one id 32 times at both the CI and the SmolLM2-135M shape; with this init it visits
        # 14 (CI) and 6 (135M) distinct ids in 24 steps, top-1 logit gap 0.2-0.3 (logit std 0.3-0.5).
        for n, p in model.named_parameters():
            if n.endswith("proj.weight"):
                nn.init.normal_(p, std=1.0 / math.sqrt(p.shape[1]))
        if spec["qkv_bias"]:
            for layer in model.layers:
                for name in ("q_proj", "k_proj", "v_proj"):
                    old = getattr(layer.self_attn, name)
                    new = nn.Linear(old.in_features, old.out_features, bias=True)
                    new.weight.copy_(old.weight)
                    nn.init.normal_(new.bias, std=0.02)
                    setattr(layer.self_attn, name, new)
    return model.eval()


def sanity(model, n=32):
    """Greedy continuation of a fixed prompt (with model.py's KV cache): logits must spread and decoding must not
    lock on one id. The ids are the reference the CI test holds onnxruntime-node and the browser to."""
    ids = torch.tensor([[510, 72, 101, 108, 108, 111, 511, 510]])
    out = []
    with torch.no_grad():
        logits, past = model(ids)
        for _ in range(n):
            last = logits[0, -1]
            out.append(int(last.argmax()))
            pos = torch.tensor([[ids.shape[1] + len(out) - 1]])
            logits, past = model(torch.tensor([[out[-1]]]), None, pos, past)
    top2 = torch.topk(last, 2).values
    return {"greedy_ids": out, "distinct": len(set(out)), "logit_std": float(last.std()),
            "top1_gap": float(top2[0] - top2[1])}


def write_tokenizer(out, vocab_size, max_len, source):
    tok = Tokenizer.from_tokenizer_json(source)
    write_tokenizer_files(tok, out, max_len)
    p = os.path.join(out, "tokenizer.json")
    with open(p) as f:
        tj = json.load(f)
    vocab = tj["model"]["vocab"]
    base = len(vocab)
    assert max(vocab.values()) == base - 1 and base <= vocab_size
    # Unused ids: plain vocabulary entries no merge can produce (never emitted by encode, decoded as their text).
    for i in range(base, vocab_size):
        vocab[f"<unused_{i}>"] = i
    with open(p, "w") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    return tok


def write_configs(out, shape, ext_files, tok):
    spec = SHAPES[shape]
    c = spec["cfg"]
    bos, eos = tok.vocab[ENDOFTEXT], tok.vocab[IM_END]
    cfg = {
        "architectures": ["Qwen2ForCausalLM" if spec["model_type"] == "qwen2" else "LlamaForCausalLM"],
        "model_type": spec["model_type"], "attention_bias": spec["qkv_bias"], "attention_dropout": 0.0,
        "bos_token_id": bos, "eos_token_id": eos, "pad_token_id": bos,
        "head_dim": c["hidden_size"] // c["num_attention_heads"], "hidden_act": "silu",
        "hidden_size": c["hidden_size"], "initializer_range": 0.02, "intermediate_size": c["intermediate_size"],
        "max_position_embeddings": c["max_position_embeddings"], "mlp_bias": False,
        "num_attention_heads": c["num_attention_heads"], "num_hidden_layers": c["num_hidden_layers"],
        "num_key_value_heads": c["num_key_value_heads"], "rms_norm_eps": c["rms_norm_eps"], "rope_scaling": None,
        "rope_theta": c["rope_theta"], "tie_word_embeddings": True, "torch_dtype": "float32",
        "transformers_version": "4.46.0", "use_cache": True, "vocab_size": c["vocab_size"],
        "scale_model": {"shape": shape, "random_weights": True, "tool_version": TOOL_VERSION},
    }
    if ext_files:
        # transformers.js 4.3 (utils/model-loader.js): per full file name, the number of `{file}_data` chunks.
        cfg["transformers.js_config"] = {"use_external_data_format": {f: 1 for f in sorted(ext_files)}}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    gen = {"bos_token_id": bos, "eos_token_id": [eos, bos], "pad_token_id": bos, "do_sample": False,
           "transformers_version": "4.46.0"}
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=1)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", required=True, choices=sorted(SHAPES))
    ap.add_argument("--dtypes", default="fp32,q8,q4")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--external-data", choices=["auto", "always"], default="auto")
    ap.add_argument("--tokenizer", default="public/models/slm-pocket/tokenizer.json")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    dtypes = [d for d in a.dtypes.split(",") if d]
    for d in dtypes:
        if d not in DTYPE_FILES:
            sys.exit(f"unknown dtype {d} (this tool writes {', '.join(DTYPE_FILES)}; fp16/q4f16 are not written)")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    onnx_dir = os.path.join(a.out, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    manifest_path = os.path.join(a.out, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {"files": {}, "seconds": {}}
    manifest.update({"shape": a.shape, "seed": a.seed, "tool_version": TOOL_VERSION, "external_data": a.external_data})

    t0 = time.time()
    model = build_model(a.shape, a.seed)
    manifest["params"] = model.num_params()
    manifest["seconds"]["init"] = round(time.time() - t0, 1)
    c = SHAPES[a.shape]["cfg"]
    tok = write_tokenizer(a.out, c["vocab_size"], c["max_position_embeddings"], a.tokenizer)
    if "sanity" not in manifest:
        t = time.time()
        manifest["sanity"] = sanity(model)
        manifest["seconds"]["sanity"] = round(time.time() - t, 1)
    s = manifest["sanity"]
    print(f"{a.shape}: {manifest['params'] / 1e6:.1f}M params; greedy: {s['distinct']} distinct ids of 32, "
          f"logit std {s['logit_std']:.3f}", flush=True)
    if s["distinct"] < 4:
        sys.exit(f"degenerate random model: greedy output {s['greedy_ids']}")

    fp32 = os.path.join(onnx_dir, DTYPE_FILES["fp32"])
    need = [d for d in dtypes if not os.path.exists(os.path.join(onnx_dir, DTYPE_FILES[d]))]
    ext_files = set(manifest.get("external_files", []))
    with tempfile.TemporaryDirectory(dir=a.out, prefix=".tmp-") as tmp:
        src = fp32
        if need:
            import onnx
            # Export to a scratch folder: past 2 GB torch writes one external file per tensor there.
            t = time.time()
            torch.manual_seed(a.seed)
            raw = os.path.join(tmp, "raw", "model.onnx")
            export_onnx(model, raw)
            del model
            manifest["seconds"]["export_fp32"] = round(time.time() - t, 1)
            src = raw
            if "fp32" in need:
                t = time.time()
                # torch wrote external data (one file per tensor) only past 2 GB; otherwise the file is final as is
                ext = a.external_data == "always" or len(os.listdir(os.path.dirname(raw))) > 1
                part = os.path.join(tmp, "model.onnx")
                if ext:
                    m = onnx.load(raw)
                    onnx.save_model(m, part, save_as_external_data=True, all_tensors_to_one_file=True,
                                    location="model.onnx_data", size_threshold=1024)
                    os.replace(part + "_data", fp32 + "_data")
                    ext_files.add("model.onnx")
                else:
                    shutil.copyfile(raw, part)
                os.replace(part, fp32)
                manifest["seconds"]["save_fp32"] = round(time.time() - t, 1)
            for d, fn in (("q8", quantize_q8), ("q4", quantize_q4)):
                if d in need:
                    t = time.time()
                    part = os.path.join(tmp, DTYPE_FILES[d])
                    fn(src, part)
                    os.replace(part, os.path.join(onnx_dir, DTYPE_FILES[d]))
                    manifest["seconds"][d] = round(time.time() - t, 1)
                    print(f"  {d} in {manifest['seconds'][d]} s", flush=True)
    manifest["external_files"] = sorted(ext_files)
    write_configs(a.out, a.shape, ext_files, tok)
    for name in sorted(os.listdir(onnx_dir)):
        p = os.path.join(onnx_dir, name)
        if name not in manifest["files"] or manifest["files"][name]["bytes"] != os.path.getsize(p):
            manifest["files"][name] = {"bytes": os.path.getsize(p), "sha256": sha256(p)}
    manifest["seconds"]["total_last_run"] = round(time.time() - t0, 1)
    with open(manifest_path + ".part", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(manifest_path + ".part", manifest_path)
    for name, f in sorted(manifest["files"].items()):
        print(f"  onnx/{name}: {f['bytes'] / 1e6:.1f} MB sha256 {f['sha256'][:16]}")


if __name__ == "__main__":
    main()
