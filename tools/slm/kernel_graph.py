"""The weight-matmul kernels of one decode step as a bare ONNX graph (issue 12, `kernel_ratio`).

  /usr/bin/python3 tools/slm/kernel_graph.py MODEL.onnx OUT.onnx

Keeps, in the model's order, every MatMul whose B is a 2-D initializer (fp32), every
DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul group (q8, tools/slm/quantize.py's layout) and every
com.microsoft MatMulNBits (q4), with the same weights, shapes and attributes. Each one reads its own graph
input x_K [1, seq, K] (seq 1: one decode step's activation; seq = a prompt's length: its prefill, the benchmark's
`prefill_kernel_ratio`; independent inputs, not a chain, so that values cannot
decay into denormals through hundreds of random-weight projections), and each result is summed to one
scalar so that nothing is pruned and the output copied back is 4 bytes. The benchmark runs it in ORT-web
(WASM, the worker's setup and threads) and in onnxruntime-node: the ratio is the kernels' own WASM tax.
"""
import sys

import onnx
from onnx import TensorProto, helper


def main(src, dst):
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    by_output = {o: n for n in g.node for o in n.output}
    # Consumers by input name: the q8 branch looked them up by scanning every node for each of the
    # model's MatMulIntegers (quadratic: 117-185 s for the 135M shape, 3 s with this index).
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    keep, used_inits, inputs, sums = [], set(), {}, []

    def x_for(K):
        if K not in inputs:
            inputs[K] = helper.make_tensor_value_info(f"x_{K}", TensorProto.FLOAT, [1, "seq", K])
        return f"x_{K}"

    def finish(out_name):
        s = f"{out_name}_sum"
        keep.append(helper.make_node("ReduceSum", [out_name], [s], keepdims=0))
        sums.append(s)

    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits and len(inits[n.input[1]].dims) == 2:
            K = inits[n.input[1]].dims[0]
            keep.append(helper.make_node("MatMul", [x_for(K), n.input[1]], [n.output[0]], name=n.name))
            used_inits.add(n.input[1])
            finish(n.output[0])
        elif n.op_type == "MatMulNBits":
            K = next(a.i for a in n.attribute if a.name == "K")
            nn = onnx.NodeProto()
            nn.CopyFrom(n)
            nn.input[0] = x_for(K)
            keep.append(nn)
            used_inits.update(i for i in n.input[1:] if i)
            finish(n.output[0])
        elif n.op_type == "MatMulInteger" and n.input[1] in inits:
            dql = by_output[n.input[0]]
            K = inits[n.input[1]].dims[0]
            d = onnx.NodeProto()
            d.CopyFrom(dql)
            d.input[0] = x_for(K)
            keep.append(d)
            keep.append(n)
            used_inits.update(i for i in n.input[1:] if i in inits)
            # Cast and the two Muls after it (scale), as in the model.
            cast = next(c for c in consumers[n.output[0]] if c.op_type == "Cast" and c.input[0] == n.output[0])
            keep.append(cast)
            out = next(c for c in consumers[cast.output[0]] if c.op_type == "Mul")
            mul_scale = next(by_output[x] for x in out.input if x in by_output and by_output[x].op_type == "Mul")
            keep.append(mul_scale)
            used_inits.update(i for i in mul_scale.input if i in inits)
            keep.append(out)
            finish(out.output[0])
    total = "kernel_sum"
    keep.append(helper.make_node("Sum", sums, [total]))
    graph = helper.make_graph(keep, "decode_step_kernels", list(inputs.values()),
                              [helper.make_tensor_value_info(total, TensorProto.FLOAT, [])],
                              [inits[i] for i in sorted(used_inits)])
    out = helper.make_model(graph, opset_imports=list(m.opset_import), ir_version=m.ir_version)
    onnx.save(out, dst)
    print(f"{dst}: {len(sums)} weight matmuls, inputs {sorted(inputs)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
