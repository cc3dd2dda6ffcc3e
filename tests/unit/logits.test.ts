// Top-p on transformers.js's generate() path: our processor, run inside transformers.js's own
// LogitsProcessorList after its temperature warper, must leave exactly the nucleus the KV loop
// samples from, and so change the distribution as top-p should.
import { LogitsProcessor, LogitsProcessorList, Tensor, TemperatureLogitsWarper } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { maskToNucleus, needsNucleus, nucleusProcessor } from '../../src/inference/logits';
import { candidates } from '../../src/inference/sampling';

const probs = [0.5, 0.3, 0.15, 0.05];
const logits = () => Float32Array.from(probs.map(Math.log));
const softmax = (row: ArrayLike<number>) => {
  const max = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('top-p for generate()', () => {
  it('keeps the smallest set reaching top-p; the rest gets probability 0, the kept ones renormalised', () => {
    const row = logits();
    maskToNucleus(row, row.length, 0, 0.75);
    const out = softmax(row);
    expect(out[2]).toBe(0);
    expect(out[3]).toBe(0);
    expect(out[0]).toBeCloseTo(0.5 / 0.8, 6);
    expect(out[1]).toBeCloseTo(0.3 / 0.8, 6);
  });

  it('top-p 1 and no top-k leave the distribution as it was', () => {
    const row = logits();
    maskToNucleus(row, row.length, 0, 1);
    expect(softmax(row).map((x) => Math.round(x * 100) / 100)).toEqual(probs);
  });

  it('top-k first, then top-p of what is left (the KV loop order)', () => {
    const row = logits();
    maskToNucleus(row, row.length, 2, 0.6);
    // top-2 renormalised: 0.625, 0.375; top-p 0.6 keeps only the first
    expect(softmax(row)).toEqual([1, 0, 0, 0]);
  });

  it('masks each row of a batch on its own', () => {
    const two = Float32Array.from([...logits(), ...Array.from(logits()).reverse()]);
    maskToNucleus(two, 4, 0, 0.5);
    expect(softmax(two.subarray(0, 4))).toEqual([1, 0, 0, 0]);
    expect(softmax(two.subarray(4, 8))).toEqual([0, 0, 0, 1]);
  });

  it('as a transformers.js processor after its temperature warper: the set the KV loop draws from', () => {
    const T = 1.7;
    const list = new LogitsProcessorList();
    list.push(new TemperatureLogitsWarper(T));
    list.push(nucleusProcessor(LogitsProcessor, 0, 0.75));
    const t = new Tensor('float32', logits(), [1, 4]);
    const out = list._call([[1n, 2n]], t) as Tensor;
    const kept = Array.from(out.data as Float32Array).flatMap((v, i) => (v > -Infinity ? [i] : []));
    expect(kept).toEqual(candidates(logits(), { temperature: T, topK: 0, topP: 0.75 }).ids.sort());
    // After temperature 1.7 the probabilities are ~0.40, 0.30, 0.20, 0.10: three reach 0.75 (two would before it).
    expect(kept).toEqual([0, 1, 2]);
  });

  it('is added only when sampling with top-p below 1', () => {
    expect(needsNucleus({ doSample: true, topP: 0.9 })).toBe(true);
    expect(needsNucleus({ doSample: true, topP: 1 })).toBe(false);
    expect(needsNucleus({ doSample: false, topP: 0.9 })).toBe(false);
  });
});
