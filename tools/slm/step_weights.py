"""A q8 Llama export's decode-step weights as one flat file, for the benchmark's own-step probe
(scripts/bench/own-step.mjs, issue 12).

  /usr/bin/python3 tools/slm/step_weights.py MODEL_quantized.onnx CONFIG.json OUT.bin

Reads tools/slm's q8 layout (quantize.py: q8_{i}_W_quantized int8 [K][N] with zero point 0 and a scale per
column, i = 7 * layer + q, k, v, o, gate, up, down, then the LM head) and the torch exporter's node names for
the RMSNorm weights (deduplicated through Identity nodes) and the rotary inverse frequencies. Writes, each
aligned to 16 bytes: the embedding f32 [V][h]; per layer ln1 and ln2 f32 [h] and, per projection, W int8
[N][K] (transposed: a row per output), its scales f32 [N] and its row sums i32 [N] (for the activation's zero
point); the final norm f32 [h]; the LM head likewise. Prints the byte offsets and the rotary frequencies as
JSON. Llama only (no projection biases); anything else exits with a message saying what it found.
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main(src, cfg_path, out):
    cfg = json.load(open(cfg_path))
    if cfg.get("model_type") != "llama":
        sys.exit(f"step_weights.py: a llama decoder only, not {cfg.get('model_type')!r}")
    m = onnx.load(src)
    inits = {i.name: i for i in m.graph.initializer}
    nodes = {n.name: n for n in m.graph.node}
    by_output = {o: n for n in m.graph.node for o in n.output}
    ident = {n.output[0]: n.input[0] for n in m.graph.node if n.op_type == "Identity"}
    layers = cfg["num_hidden_layers"]
    if f"q8_{7 * layers}_W_quantized" not in inits:
        sys.exit(f"step_weights.py: {src} is not tools/slm's q8 layout (no q8_{7 * layers}_W_quantized)")

    def arr(name):
        while name not in inits:
            name = ident[name]
        return numpy_helper.to_array(inits[name])

    f = open(out, "wb")
    pos = 0

    def put(a):
        nonlocal pos
        pad = (-pos) % 16
        f.write(b"\0" * pad)
        pos += pad
        at = pos
        b = np.ascontiguousarray(a).tobytes()
        f.write(b)
        pos += len(b)
        return at

    def matmul(i):
        W = arr(f"q8_{i}_W_quantized")
        if W.dtype != np.int8 or arr(f"q8_{i}_W_zero_point").any():
            sys.exit(f"step_weights.py: q8_{i} is not symmetric int8")
        Wt = np.ascontiguousarray(W.T)
        return {"K": int(W.shape[0]), "N": int(W.shape[1]), "w": put(Wt),
                "scale": put(arr(f"q8_{i}_W_scale").astype(np.float32)),
                "rowsum": put(Wt.astype(np.int32).sum(axis=1).astype(np.int32))}

    def norm(prefix):
        return put(arr(nodes[f"{prefix}/Mul_1"].input[1]).astype(np.float32))

    man = {"embed": put(arr("model.embed_tokens.weight").astype(np.float32)), "layers": []}
    for l in range(layers):
        layer = {"ln1": norm(f"/model/layers.{l}/input_layernorm"), "ln2": norm(f"/model/layers.{l}/post_attention_layernorm")}
        for j, name in enumerate(["q", "k", "v", "o", "gate", "up", "down"]):
            layer[name] = matmul(7 * l + j)
        man["layers"].append(layer)
    man["norm"] = norm("/model/norm")
    man["head"] = matmul(7 * layers)
    man["bytes"] = pos
    f.close()
    # The rotary inverse frequencies as the export holds them (a constant the positions are multiplied by).
    mul = by_output["/model/Cos_output_0"]
    while mul.op_type != "Mul":
        mul = by_output[mul.input[0]]
    inv = next(numpy_helper.to_array(by_output[i].attribute[0].t) for i in mul.input if i in by_output and by_output[i].op_type == "Constant")
    man["inv_freq"] = [float(x) for x in inv.astype(np.float32)]
    print(json.dumps(man))


if __name__ == "__main__":
    main(*sys.argv[1:4])
