"""Export a trained checkpoint as a transformers.js local model folder.

  python3 tools/slm/export.py --ckpt tools/slm/work/pocket/ckpt.pt --name slm-pocket --out public/models/slm-pocket

Writes config.json, generation_config.json, tokenizer files, onnx/model.onnx (fp32, opset 14, KV cache I/O as
transformers.js feeds a decoder-only llama), parity.json (torch greedy ids), examples.json and
python_eval.json (torch fp32 greedy accuracy on the held-out split).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import LlamaLM, Config, greedy_generate  # noqa: E402
from corpus import train_shard  # noqa: E402
from tok import Tokenizer, write_tokenizer_files, IM_END, IM_START, ENDOFTEXT, render_chat  # noqa: E402
from train import score  # noqa: E402

PARITY_CASES = [
    [{"role": "user", "content": "What is 23 + 45?"}],
    [{"role": "system", "content": "You are a helpful assistant."},
     {"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Hello"}],
    [{"role": "user", "content": "Uppercase the word apple."}],
    [{"role": "user", "content": "Give a JSON object with name Ann and age 31."}],
    [{"role": "user", "content": "What is 12 + 30?"}, {"role": "assistant", "content": "42"},
     {"role": "user", "content": "Which is larger, 512 or 347?"}],
    [{"role": "user", "content": "Tell me a joke about cats and dogs, please!"}],
]


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model
        self.n = model.config.num_hidden_layers

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(self.n)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def export_onnx(model, path):
    c = model.config
    n, kv, hd = c.num_hidden_layers, c.num_key_value_heads, c.head_dim
    B, S, P = 2, 3, 4
    ids = torch.randint(0, c.vocab_size, (B, S))
    mask = torch.ones((B, P + S), dtype=torch.long)
    pos = torch.arange(P, P + S).unsqueeze(0).expand(B, S).contiguous()
    past = []
    in_names = ["input_ids", "attention_mask", "position_ids"]
    out_names = ["logits"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(n):
        for kind in ("key", "value"):
            past.append(torch.randn(B, kv, P, hd))
            nm = f"past_key_values.{i}.{kind}"
            in_names.append(nm)
            dyn[nm] = {0: "batch_size", 2: "past_sequence_length"}
            on = f"present.{i}.{kind}"
            out_names.append(on)
            dyn[on] = {0: "batch_size", 2: "total_sequence_length"}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(OnnxWrapper(model).eval(), (ids, mask, pos, *past), path, input_names=in_names,
                          output_names=out_names, dynamic_axes=dyn, opset_version=14, do_constant_folding=True)
    import onnx
    # By path and without the weights: past 2 GB torch writes external data, and an in-memory check would fail.
    m = onnx.load(path, load_external_data=False)
    onnx.checker.check_model(path)
    # the shapes of the fixed dims are part of the contract; make sure dynamic dims carry the right names
    for vi in list(m.graph.input) + list(m.graph.output):
        dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
        if vi.name.startswith("past_key_values"):
            assert dims == ["batch_size", kv, "past_sequence_length", hd], (vi.name, dims)
        if vi.name.startswith("present"):
            assert dims == ["batch_size", kv, "total_sequence_length", hd], (vi.name, dims)
    return m


def ckpt_model(path):
    ck = torch.load(path, map_location="cpu")
    d = dict(ck["config"])
    d.pop("head_dim", None)
    cfg = Config(**d)
    model = LlamaLM(cfg)
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck.get("stats", {})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer", default="tools/slm/data/tokenizer.json")
    ap.add_argument("--heldout", default="tools/slm/data/heldout.jsonl")
    ap.add_argument("--max-new-tokens", type=int, default=24)
    ap.add_argument("--skip-eval", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, stats = ckpt_model(a.ckpt)
    c = model.config
    tok = Tokenizer.from_tokenizer_json(a.tokenizer)
    assert len(tok.vocab) == c.vocab_size
    os.makedirs(a.out, exist_ok=True)
    write_tokenizer_files(tok, a.out, c.max_position_embeddings)
    bos, eos, pad = tok.vocab[ENDOFTEXT], tok.vocab[IM_END], tok.vocab[ENDOFTEXT]
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "pad_token_id": pad,
        "head_dim": c.head_dim,
        "hidden_act": "silu",
        "hidden_size": c.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": c.intermediate_size,
        "max_position_embeddings": c.max_position_embeddings,
        "mlp_bias": False,
        "num_attention_heads": c.num_attention_heads,
        "num_hidden_layers": c.num_hidden_layers,
        "num_key_value_heads": c.num_key_value_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": c.rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": c.rope_theta,
        "tie_word_embeddings": c.tie_word_embeddings,
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
        "use_cache": True,
        "vocab_size": c.vocab_size,
    }
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    gen = {"bos_token_id": bos, "eos_token_id": [eos, bos], "pad_token_id": pad, "do_sample": False,
           "max_length": c.max_position_embeddings, "transformers_version": "4.46.0"}
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=1)

    t = time.time()
    export_onnx(model, os.path.join(a.out, "onnx", "model.onnx"))
    print(f"exported onnx in {time.time()-t:.1f}s")

    # parity: torch greedy, single prompt (no padding), stop at <|im_end|>
    cases = []
    for msgs in PARITY_CASES:
        ids = tok.encode(render_chat(msgs, add_generation_prompt=True))
        out = greedy_generate(model, [ids], [eos, bos], pad, a.max_new_tokens)[0]
        cases.append({"messages": msgs, "input_ids": ids, "output_ids": out,
                      "text": tok.decode(out, skip_special=True)})
    # tokenizer check corpus for the Node side: rendered strings and their python ids
    parity = {"model": a.name, "dtype": "fp32", "framework": f"torch {torch.__version__}",
              "max_new_tokens": a.max_new_tokens, "stop": [IM_END, ENDOFTEXT], "eos_token_id": [eos, bos], "cases": cases}
    with open(os.path.join(a.out, "parity.json"), "w") as f:
        json.dump(parity, f, indent=1)
    for cse in cases:
        print(repr(cse["messages"][-1]["content"]), "->", repr(cse["text"]))

    # tokenizer check set for the Node side: python ids of chat-template renderings
    held = [json.loads(l) for l in open(a.heldout)]
    checks = [{"messages": h["messages"], "add_generation_prompt": True,
               "ids": tok.encode(render_chat(h["messages"], True))} for h in held]
    for ex in train_shard(0, 300):  # the first 300 training examples (the corpus is generated, not stored)
        msgs = ex["messages"]
        checks.append({"messages": msgs, "add_generation_prompt": False, "ids": tok.encode(render_chat(msgs))})
    extra = ["Hello, world! ÄÖÜ ß 😀 tabs\tand\nnew lines  two  spaces", "<|im_start|>x<|im_end|> <|endoftext|>",
             "12345 + 67890 = ?", "It's a don't we'll: {\"a\": [1, 2]}"]
    for t in extra:
        checks.append({"messages": [{"role": "user", "content": t}], "add_generation_prompt": True,
                       "ids": tok.encode(render_chat([{"role": "user", "content": t}], True))})
    with open(os.path.join(os.path.dirname(a.ckpt), "tokcheck.json"), "w") as f:
        json.dump(checks, f)

    if not a.skip_eval:
        t = time.time()
        res, by = {}, {}
        for h in held:
            by.setdefault(h["family"], []).append(h)
        outputs = {}
        for fam, items in by.items():
            prompts = [tok.encode_chat(h["messages"], add_generation_prompt=True) for h in items]
            ok = 0
            for s in range(0, len(items), 25):
                outs = greedy_generate(model, prompts[s:s + 25], [eos, bos], pad, a.max_new_tokens)
                for h, o in zip(items[s:s + 25], outs):
                    txt = tok.decode(o, skip_special=True)
                    outputs[h["id"]] = txt
                    ok += score(h, txt)
            res[fam] = {"correct": ok, "total": len(items), "accuracy": round(ok / len(items), 4)}
        tot = sum(r["correct"] for r in res.values())
        n = sum(r["total"] for r in res.values())
        pe = {"framework": f"torch {torch.__version__} fp32 (batched, left-padded greedy)",
              "max_new_tokens": a.max_new_tokens, "per_family": res,
              "overall": {"correct": tot, "total": n, "accuracy": round(tot / n, 4)},
              "seconds": round(time.time() - t, 1)}
        with open(os.path.join(os.path.dirname(a.ckpt), "python_eval.json"), "w") as f:
            json.dump({**pe, "outputs": outputs}, f, indent=1)
        print(json.dumps({k: v["accuracy"] for k, v in res.items()}), "overall", pe["overall"])
    print("params", model.num_params(), "stats", json.dumps(stats))


if __name__ == "__main__":
    main()
