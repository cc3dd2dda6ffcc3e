// Which models the worker's KV decode loop takes, and why it leaves the others to transformers.js.
// (The loop's output is checked against real models in tests/kv-decoder-node.test.ts.)
import { describe, expect, it } from 'vitest';
import { planKvDecoder, type OrtSessionLike, type ValueMetadata } from '../../src/inference/kv-decoder';

function session(opts: { layers?: number; kvType?: string; extraInput?: string; extraOutput?: string; positionIds?: boolean; heads?: number | string; noMeta?: boolean } = {}): OrtSessionLike {
  const layers = opts.layers ?? 2;
  const inputs = ['input_ids', 'attention_mask', ...(opts.positionIds === false ? [] : ['position_ids'])];
  const outputs = ['logits'];
  const inMeta: ValueMetadata[] = inputs.map((name) => ({ name, isTensor: true, type: 'int64', shape: ['batch_size', 'sequence_length'] }));
  const outMeta: ValueMetadata[] = [{ name: 'logits', isTensor: true, type: 'float32', shape: ['batch_size', 'sequence_length', 512] }];
  for (let i = 0; i < layers; i++) {
    for (const kv of ['key', 'value']) {
      inputs.push(`past_key_values.${i}.${kv}`);
      outputs.push(`present.${i}.${kv}`);
      inMeta.push({ name: `past_key_values.${i}.${kv}`, isTensor: true, type: opts.kvType ?? 'float32', shape: ['batch_size', opts.heads ?? 2, 'past_sequence_length', 32] });
      outMeta.push({ name: `present.${i}.${kv}`, isTensor: true, type: opts.kvType ?? 'float32', shape: ['batch_size', 2, 'total_sequence_length', 32] });
    }
  }
  if (opts.extraInput) inputs.push(opts.extraInput);
  if (opts.extraOutput) outputs.push(opts.extraOutput);
  return {
    inputNames: inputs,
    outputNames: outputs,
    ...(opts.noMeta ? {} : { inputMetadata: inMeta, outputMetadata: outMeta }),
    run: () => Promise.reject(new Error('not run in this test')),
  };
}

describe('planKvDecoder', () => {
  it('takes a LLaMA-style export (the embedded models, onnx-community Qwen/SmolLM/Llama layouts)', () => {
    const plan = planKvDecoder(session({ layers: 4 }), { eos_token_id: [511, 509], do_sample: false, max_length: 512 });
    expect(plan).toEqual({
      layout: {
        layers: 4,
        kvHeads: 2,
        headDim: 32,
        vocab: 512,
        positionIds: true,
        cache: Array.from({ length: 8 }, (_, j) => {
          const name = `${Math.floor(j / 2)}.${j % 2 ? 'value' : 'key'}`;
          return { past: `past_key_values.${name}`, present: `present.${name}` };
        }),
      },
    });
  });

  it('takes a model without position_ids', () => {
    const plan = planKvDecoder(session({ positionIds: false }));
    expect('layout' in plan && plan.layout.positionIds).toBe(false);
  });

  it.each([
    [{ kvType: 'float16' }, {}, /KV cache is float16/],
    [{ extraInput: 'num_logits_to_keep' }, {}, /input this loop does not fill \(num_logits_to_keep\)/],
    [{ extraOutput: 'hidden_states' }, {}, /output this loop does not read \(hidden_states\)/],
    [{ heads: 'num_heads' }, {}, /no fixed head count/],
    [{ noMeta: true }, {}, /does not describe the model inputs/],
    [{ layers: 0 }, {}, /no KV cache inputs/],
    [{}, { no_repeat_ngram_size: 3 }, /generation_config sets no_repeat_ngram_size/],
    [{}, { suppress_tokens: [1, 2] }, /generation_config sets suppress_tokens/],
    [{}, { num_beams: 4 }, /generation_config sets num_beams/],
    [{}, { forced_bos_token_id: 1 }, /generation_config sets forced_bos_token_id/],
  ] as const)('leaves %o / generation_config %o to transformers.js: %s', (opts, generation, reason) => {
    const plan = planKvDecoder(session(opts), generation);
    expect('reason' in plan ? plan.reason : 'taken').toMatch(reason);
  });

  it('a missing present output or an incomplete layer is named', () => {
    const s = session();
    expect(planKvDecoder({ ...s, outputNames: s.outputNames.filter((n) => n !== 'present.1.value') })).toEqual({ reason: 'the model has no present.1.value output' });
    expect(planKvDecoder({ ...s, inputNames: s.inputNames.filter((n) => n !== 'past_key_values.0.value') })).toEqual({ reason: 'the KV cache of layer 0 is incomplete' });
  });
});
