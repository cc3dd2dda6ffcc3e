"""Turn a committed fp32 model back into a training checkpoint, so training can continue from it.

  /usr/bin/python3 tools/slm/onnx_to_ckpt.py public/models/slm-pocket tools/slm/work/pocket-base/ckpt.pt

Checkpoints (tools/slm/work/) are git-ignored; the committed ONNX files are what survives a build. The export keeps
the names of norms and embeddings; each MatMul weight is an anonymous `onnx::MatMul_N` initializer [in, out] whose
node is named after its module (`/model/layers.3/mlp/up_proj/MatMul`), so the state dict is rebuilt from the node
names (transposed back to torch's [out, in]). The tied LM head is the embedding. The checkpoint is then checked:
greedy decoding in torch must reproduce every case of the folder's parity.json (the torch outputs it was exported
from), token for token. The card's `training` block is kept beside it (previous_training.json) for the next card.
"""
import json
import os
import sys

import torch
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from model import Config, LlamaLM, greedy_generate  # noqa: E402
from train import save_ckpt  # noqa: E402


def state_from_onnx(path):
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    sd = {}
    for name, arr in inits.items():
        if name.startswith("model."):
            sd[name[len("model."):]] = torch.from_numpy(arr.copy())
    for n in m.graph.node:
        if n.op_type != "MatMul" or n.input[1] not in inits or not n.name.startswith("/model/layers."):
            continue
        # /model/layers.3/mlp/up_proj/MatMul -> layers.3.mlp.up_proj.weight
        key = n.name[len("/model/"):-len("/MatMul")].replace("/", ".") + ".weight"
        sd[key] = torch.from_numpy(inits[n.input[1]].T.copy())
    return sd


def main():
    folder, out = sys.argv[1], sys.argv[2]
    cfg_json = json.load(open(os.path.join(folder, "config.json")))
    cfg = Config(hidden_size=cfg_json["hidden_size"], intermediate_size=cfg_json["intermediate_size"],
                 num_hidden_layers=cfg_json["num_hidden_layers"], num_attention_heads=cfg_json["num_attention_heads"],
                 num_key_value_heads=cfg_json["num_key_value_heads"], vocab_size=cfg_json["vocab_size"])
    model = LlamaLM(cfg)
    sd = state_from_onnx(os.path.join(folder, "onnx", "model.onnx"))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert not [k for k in missing if k != "lm_head.weight"], missing
    model.eval()
    parity = json.load(open(os.path.join(folder, "parity.json")))
    eos = parity["eos_token_id"]
    cases = parity["cases"]
    with torch.no_grad():
        got = greedy_generate(model, [c["input_ids"] for c in cases], eos, eos[-1], parity["max_new_tokens"])
    for c, g in zip(cases, got):
        assert g == c["output_ids"], (c["messages"], g, c["output_ids"])
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    save_ckpt(model, cfg, out, {"from_onnx": folder})
    # The committed model's own training, for the card of the model that continues from it (eval.mjs).
    card = json.load(open(os.path.join(folder, "card.json")))
    with open(os.path.join(os.path.dirname(out) or ".", "previous_training.json"), "w") as f:
        json.dump(card.get("training"), f, indent=1)
    print(json.dumps({"folder": folder, "out": out, "tensors": len(sd), "parity_cases": len(parity["cases"])}))


if __name__ == "__main__":
    main()
