"""Weight quantization of the exported fp32 ONNX model by graph surgery (onnx python API only).

  python3 tools/slm/quantize.py public/models/slm-pocket/onnx

* model_quantized.onnx (q8): dynamic int8 quantization of every MatMul whose B is a 2-D initializer, the way
  onnxruntime.quantization.quantize_dynamic does it: DynamicQuantizeLinear(A) -> MatMulInteger(A_q, W_q, A_zp, W_zp)
  -> Cast(float) -> Mul(A_scale * W_scale). W is symmetric int8 per output column (W_zp = 0, shape [N]).
* model_q4.onnx (q4): com.microsoft MatMulNBits (bits=4, block_size=32): B uint8 [N, K/32, 16] with the 4-bit codes of
  W^T packed low nibble first along K, scales float [N * K/32], zero_points uint8 [N * ceil((K/32)/2)] (packed the same
  way), value = (code - zero_point) * scale. Asymmetric per block.
* model_q4_reference.onnx (only with --debug): the q4 model with every MatMulNBits replaced by a MatMul on the weights
  dequantized here in numpy; Node compares it to model_q4.onnx to check the packing numerically.
Embeddings (Gather) stay fp32.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BLOCK = 32


def matmul_weight_nodes(model):
    inits = {i.name: i for i in model.graph.initializer}
    out = []
    for n in model.graph.node:
        if n.op_type == "MatMul" and n.input[1] in inits and len(inits[n.input[1]].dims) == 2:
            out.append(n)
    return out, inits


def _replace(model, old_node, new_nodes, new_inits, drop_init):
    g = model.graph
    idx = list(g.node).index(old_node)
    g.node.remove(old_node)
    for k, nn_ in enumerate(new_nodes):
        g.node.insert(idx + k, nn_)
    g.initializer.extend(new_inits)
    still_used = any(drop_init in n.input for n in g.node)
    if not still_used:
        for i in list(g.initializer):
            if i.name == drop_init:
                g.initializer.remove(i)


def quantize_q8(src, dst):
    m = onnx.load(src)
    nodes, inits = matmul_weight_nodes(m)
    for k, n in enumerate(nodes):
        W = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)  # [K, N]
        amax = np.abs(W).max(axis=0)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)  # [N]
        Wq = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
        p = f"q8_{k}"
        new_inits = [numpy_helper.from_array(Wq, f"{p}_W_quantized"),
                     numpy_helper.from_array(scale, f"{p}_W_scale"),
                     numpy_helper.from_array(np.zeros(W.shape[1], np.int8), f"{p}_W_zero_point")]
        a = n.input[0]
        new_nodes = [
            helper.make_node("DynamicQuantizeLinear", [a], [f"{p}_A_q", f"{p}_A_scale", f"{p}_A_zp"], name=f"{p}_dql"),
            helper.make_node("MatMulInteger", [f"{p}_A_q", f"{p}_W_quantized", f"{p}_A_zp", f"{p}_W_zero_point"],
                             [f"{p}_mmi"], name=f"{p}_mmi"),
            helper.make_node("Cast", [f"{p}_mmi"], [f"{p}_mmi_f"], to=TensorProto.FLOAT, name=f"{p}_cast"),
            helper.make_node("Mul", [f"{p}_A_scale", f"{p}_W_scale"], [f"{p}_scale"], name=f"{p}_scale_mul"),
            helper.make_node("Mul", [f"{p}_mmi_f", f"{p}_scale"], [n.output[0]], name=f"{p}_out_mul"),
        ]
        _replace(m, n, new_nodes, new_inits, n.input[1])
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return len(nodes)


def q4_pack(W):
    """W [K, N] float -> (B uint8 [N, nb, 16], scales f32 [N*nb], zp uint8 [N*ceil(nb/2)], dequantized W [K, N])."""
    K, N = W.shape
    nb = (K + BLOCK - 1) // BLOCK
    Wt = np.zeros((N, nb * BLOCK), np.float32)
    Wt[:, :K] = W.T
    blocks = Wt.reshape(N, nb, BLOCK)
    mn = np.minimum(blocks.min(-1), 0.0)
    mx = np.maximum(blocks.max(-1), 0.0)
    scale = (mx - mn) / 15.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    zp = np.clip(np.round(-mn / scale), 0, 15).astype(np.uint8)  # [N, nb]
    q = np.clip(np.round(blocks / scale[..., None]) + zp[..., None], 0, 15).astype(np.uint8)  # [N, nb, 32]
    B = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # [N, nb, 16], low nibble = even index
    zpp = np.zeros((N, (nb + 1) // 2), np.uint8)
    for j in range(nb):
        if j % 2 == 0:
            zpp[:, j // 2] |= zp[:, j]
        else:
            zpp[:, j // 2] |= zp[:, j] << 4
    # independent dequantization from the packed bytes (what MatMulNBits must compute)
    lo, hi = B & 0x0F, B >> 4
    codes = np.stack([lo, hi], -1).reshape(N, nb, BLOCK).astype(np.float32)
    zpu = np.stack([zpp & 0x0F, zpp >> 4], -1).reshape(N, -1)[:, :nb].astype(np.float32)
    deq = ((codes - zpu[..., None]) * scale[..., None]).reshape(N, nb * BLOCK)[:, :K].T.copy()
    return B, scale.reshape(-1), zpp.reshape(-1), deq


def quantize_q4(src, dst, debug_dst=None):
    m = onnx.load(src)
    ref = onnx.load(src) if debug_dst else None
    nodes, inits = matmul_weight_nodes(m)
    ref_nodes = matmul_weight_nodes(ref)[0] if ref is not None else [None] * len(nodes)
    max_err = 0.0
    for k, (n, rn) in enumerate(zip(nodes, ref_nodes)):
        W = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        K, N = W.shape
        B, scales, zpp, deq = q4_pack(W)
        max_err = max(max_err, float(np.abs(deq - W).max() / (np.abs(W).max() + 1e-12)))
        p = f"q4_{k}"
        new_inits = [numpy_helper.from_array(B, f"{p}_B"), numpy_helper.from_array(scales, f"{p}_scales"),
                     numpy_helper.from_array(zpp, f"{p}_zero_points")]
        node = helper.make_node("MatMulNBits", [n.input[0], f"{p}_B", f"{p}_scales", f"{p}_zero_points"],
                                [n.output[0]], name=f"{p}_MatMulNBits", domain="com.microsoft",
                                K=K, N=N, bits=4, block_size=BLOCK, accuracy_level=0)
        _replace(m, n, [node], new_inits, n.input[1])
        if ref is not None:
            rnode = helper.make_node("MatMul", [rn.input[0], f"{p}_deq"], [rn.output[0]], name=f"{p}_deq_MatMul")
            _replace(ref, rn, [rnode], [numpy_helper.from_array(deq.astype(np.float32), f"{p}_deq")], rn.input[1])
    if not any(o.domain == "com.microsoft" for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(m, dst)
    if ref is not None:
        onnx.checker.check_model(ref)
        onnx.save(ref, debug_dst)
    return len(nodes), max_err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx_dir")
    ap.add_argument("--debug", action="store_true", help="also write model_q4_reference.onnx")
    a = ap.parse_args()
    src = os.path.join(a.onnx_dir, "model.onnx")
    n8 = quantize_q8(src, os.path.join(a.onnx_dir, "model_quantized.onnx"))
    n4, err = quantize_q4(src, os.path.join(a.onnx_dir, "model_q4.onnx"),
                          os.path.join(a.onnx_dir, "model_q4_reference.onnx") if a.debug else None)
    for f in ("model.onnx", "model_quantized.onnx", "model_q4.onnx"):
        print(f, os.path.getsize(os.path.join(a.onnx_dir, f)))
    print(f"q8: {n8} MatMuls; q4: {n4} MatMulNBits; q4 max relative weight error {err:.4f}")


if __name__ == "__main__":
    main()
