/**
 * Longest common subsequence over word keys: its length, bit-parallel (for ROUGE-L), and the
 * word diff the strip shows (a table). Pure; see agreement.ts.
 */

export interface DiffPart {
  /** same: in both; ref: only in the hosted (reference) answer; cand: only in the local answer. */
  op: 'same' | 'ref' | 'cand';
  text: string;
}

/**
 * Longest LCS table the word diff computes (words × words after the common ends are cut):
 * 16M one-byte cells (two 4,000-word answers with nothing in common). Past it the diff is left out
 * (the verdict does not need it).
 */
export const MAX_LCS_CELLS = 16_000_000;

/**
 * Length of the longest common subsequence of two key lists, bit-parallel (Allison–Dix /
 * Hyyrö): one machine word per 32 positions of `b`, so two 2,000-word answers cost 2,000 × 63
 * word operations instead of the 4M cells of the table the diff needs. Measured in
 * scripts/bench/agreement.ts: this is what keeps ROUGE-L inside a frame.
 */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const m = b.length;
  if (a.length === 0 || m === 0) return 0;
  const chunks = (m + 31) >>> 5;
  const peq = new Map<string, Uint32Array>();
  for (let j = 0; j < m; j++) {
    const k = b[j] ?? '';
    let v = peq.get(k);
    if (!v) peq.set(k, (v = new Uint32Array(chunks)));
    v[j >>> 5] = ((v[j >>> 5] as number) | (1 << (j & 31))) >>> 0;
  }
  const V = new Uint32Array(chunks).fill(0xffffffff);
  for (const key of a) {
    const M = peq.get(key);
    if (!M) continue; // V' = (V + (V & 0)) | (V & ~0) = V
    let carry = 0;
    for (let k = 0; k < chunks; k++) {
      const v = V[k] as number;
      const u = (v & (M[k] as number)) >>> 0;
      const sum = v + u + carry;
      carry = sum > 0xffffffff ? 1 : 0;
      V[k] = ((sum >>> 0) | (v & ~(M[k] as number))) >>> 0;
    }
  }
  let zeros = 0;
  for (let j = 0; j < m; j++) if (((V[j >>> 5] as number) & (1 << (j & 31))) === 0) zeros++;
  return zeros;
}

/**
 * LCS of two word lists by key, as a diff. Common ends are cut first (similar answers leave a
 * small middle); the middle is a dynamic programme with two rolling rows of lengths and one byte
 * of direction per cell. Null when the middle exceeds MAX_LCS_CELLS.
 */
export function wordDiff(ref: readonly string[], cand: readonly string[], refKeys: readonly string[], candKeys: readonly string[]): { lcs: number; diff: DiffPart[] } | null {
  let pre = 0;
  while (pre < refKeys.length && pre < candKeys.length && refKeys[pre] === candKeys[pre]) pre++;
  let suf = 0;
  while (suf < refKeys.length - pre && suf < candKeys.length - pre && refKeys[refKeys.length - 1 - suf] === candKeys[candKeys.length - 1 - suf]) suf++;
  const n = refKeys.length - pre - suf;
  const m = candKeys.length - pre - suf;
  if (n * m > MAX_LCS_CELLS) return null;
  // Integer ids: the inner loop compares numbers, not strings.
  const ids = new Map<string, number>();
  const id = (k: string) => ids.get(k) ?? (ids.set(k, ids.size), ids.size - 1);
  const a = Int32Array.from({ length: n }, (_, i) => id(refKeys[pre + i] ?? ''));
  const b = Int32Array.from({ length: m }, (_, j) => id(candKeys[pre + j] ?? ''));
  // 1 diagonal, 2 up (ref only), 3 left (cand only; preferred on ties, so a replaced word reads "ref then cand").
  const dir = new Uint8Array((n + 1) * (m + 1));
  let prev = new Uint32Array(m + 1);
  let cur = new Uint32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    const ai = a[i - 1];
    const row = i * (m + 1);
    cur[0] = 0;
    for (let j = 1; j <= m; j++) {
      if (ai === b[j - 1]) {
        cur[j] = (prev[j - 1] as number) + 1;
        dir[row + j] = 1;
      } else if ((prev[j] as number) > (cur[j - 1] as number)) {
        cur[j] = prev[j] as number;
        dir[row + j] = 2;
      } else {
        cur[j] = cur[j - 1] as number;
        dir[row + j] = 3;
      }
    }
    [prev, cur] = [cur, prev];
  }
  const mid: DiffPart['op'][] = [];
  const midText: string[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const d = i > 0 && j > 0 ? dir[i * (m + 1) + j] : i > 0 ? 2 : 3;
    if (d === 1) {
      mid.push('same');
      midText.push(cand[pre + j - 1] ?? '');
      i--;
      j--;
    } else if (d === 2) {
      mid.push('ref');
      midText.push(ref[pre + i - 1] ?? '');
      i--;
    } else {
      mid.push('cand');
      midText.push(cand[pre + j - 1] ?? '');
      j--;
    }
  }
  const ops: { op: DiffPart['op']; text: string }[] = [];
  for (let k = 0; k < pre; k++) ops.push({ op: 'same', text: cand[k] ?? '' });
  for (let k = mid.length - 1; k >= 0; k--) ops.push({ op: mid[k] as DiffPart['op'], text: midText[k] ?? '' });
  for (let k = candKeys.length - suf; k < candKeys.length; k++) ops.push({ op: 'same', text: cand[k] ?? '' });
  const diff: DiffPart[] = [];
  for (const o of ops) {
    const last = diff[diff.length - 1];
    if (last && last.op === o.op) last.text += ` ${o.text}`;
    else diff.push({ op: o.op, text: o.text });
  }
  return { lcs: (prev[m] as number) + pre + suf, diff };
}
