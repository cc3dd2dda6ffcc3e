/**
 * TTFT growth over a conversation (issue 14): TTFT at turn 8 ÷ TTFT at turn 1 of a scripted 8-turn
 * chat (user turns of ~30 tokens, answers of 40 in the history), greedy (generatedTokens: what each turn generates).
 *   ttft_growth_local            the model worker (harness.html) with the KV cache kept across turns
 *   ttft_growth_local_no_reuse   the same, every prompt prefilled whole (the baseline)
 *   ttft_growth_server           the reference server with its prefix cache, TTFT on the server's clock:
 *                                request arrival → first content byte handed to the socket (its stats)
 *   ttft_growth_server_no_reuse  the same server with --kv-cache-mb 0
 *   ttft_growth_server_client    the same conversations' TTFT seen by the client (Node fetch → first
 *                                content delta), which is what the headline was until 2026-11-30. Measured
 *                                then (135M fp32, quiet machine, 16 requests): the client received the first
 *                                byte 2–15 ms after the server wrote it, at random, with the server's ONNX
 *                                Runtime on both of the machine's 2 cores (it decodes the next token at once)
 *                                and the client process waiting for one; the server's write came 0.1–0.2 ms
 *                                after its first token every time. That jitter, ~10% of a 100 ms TTFT, moved
 *                                the ratio of two medians (1.44 client, 1.34 server clock in the same run).
 * On the embedded models a turn's TTFT is a few ms and mostly noise; the figures that matter are
 * on a model whose prefill users wait for: the 135M-shape scale model (--scale-shape smollm2-135m,
 * ttft-target.mjs), the same folder in the worker (through the tests' hub-like host) and the server.
 *
 * Every counted conversation is a new one to the cache: its first user turn carries the
 * conversation's number, so it shares only the system prompt with the ones before (as a user's
 * next chat would). Measured before this (2026-11-30): the repeats were the same conversation, so
 * from the second one on the server's LRU (and the worker's kept state) held all of it and turn 1
 * reused its whole prompt — the median then mixed a cold turn 1 with fully cached ones, and
 * ttft_growth_server read 1.02–1.54 across runs. Each side also runs one uncounted conversation
 * first (the first answers after a load or a server start run cold), and the medians are over 5.
 *
 *   npm run bench:ttft-growth -- [--model slm-reference | --scale-shape smollm2-135m] [--dtype fp32|q4]
 *                                  [--repeats 5] [--baseline-repeats 2] [--sides local,server] [--history primed|scripted] [--no-build]
 *
 * A benchmark: it returns figures and asserts nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, openHarness } from './browser.mjs';
import { referenceModel } from './hosted.mjs';
import { openTarget } from './ttft-target.mjs';
import { overFloor, ttftFloor } from './ttft-floor.mjs';
import { BASELINE_TURNS, NO_REUSE_REPEATS, WARMUP_TURNS, asked, generatedTokens, growth, perTurn, r2, turnsFor } from './ttft-conversation.mjs';
import { ttftGrowthServer } from './ttft-growth-server.mjs';

export { ttftGrowthServer };

/**
 * The script in the model worker; `reuse` false prefills every prompt whole. Per turn: TTFT (page
 * clock, request → first chunk), prompt and reused tokens, and the engine's prefill (its own clock,
 * generate start → first token: the new tokens' forward pass and the first sampling step); TTFT −
 * prefill is the rest (chat template + tokenization of the whole conversation, the context fit,
 * cache lookup, and the messages between page and worker). With `script.prime` (a random-weight
 * model, ttft-script.ts) and reuse on, an uncounted 1-token request after each turn puts the
 * history's answer into the kept state, as a trained model's own answer is.
 */
async function localConversation(page, reuse, script, tag, turnsAsked = null) {
  return page.evaluate(
    async ([system, turns, answers, n, r, prime, asked]) => {
      const messages = [{ role: 'system', content: system }];
      const out = [];
      for (const [i, content] of turns.entries()) {
        messages.push({ role: 'user', content });
        if (asked && !asked.includes(i)) {
          // Not asked (turnsAsked): the history carries the scripted answer, as it would had it been.
          messages.push({ role: 'assistant', content: answers[i] });
          out.push(null);
          continue;
        }
        const run = await window.slmHarness.generate(messages, { greedy: true, maxNewTokens: n, minNewTokens: n }, r);
        const m = run.metrics;
        const prefilled = m.inputTokens - (m.reusedInputTokens ?? 0);
        out.push({ ttft: m.ttftMs, input: m.inputTokens, reused: m.reusedInputTokens ?? null, prefillMs: m.prefillTps ? (prefilled * 1000) / m.prefillTps : null });
        messages.push({ role: 'assistant', content: answers?.[i] ?? run.text });
        if (prime && r && i < turns.length - 1) await window.slmHarness.generate(messages, { greedy: true, maxNewTokens: 1, minNewTokens: 1 }, true);
      }
      return out;
    },
    [script.system, turnsFor(script, tag), script.answers, generatedTokens(script), reuse, script.prime, turnsAsked],
  );
}

/**
 * ttft_growth_local with reuse on and off, per-turn medians over `repeats` conversations with
 * reuse and `baselineRepeats` without (interleaved), on `target` (ttft-target.mjs: an embedded model or a scale model).
 */
export async function ttftGrowthLocal({ browser, appUrl, target, repeats = 5, baselineRepeats = NO_REUSE_REPEATS, log = () => {} }) {
  const { context, page } = await openHarness(browser, appUrl);
  const { script, dtype } = target;
  try {
    const t0 = performance.now();
    await page.evaluate((o) => window.slmHarness.load(o), { source: target.source, dtype, device: 'wasm', threads: 1, warmup: null });
    log(`ttft growth, local ${target.label} ${dtype}: loaded in ${Math.round(performance.now() - t0)} ms`);
    // One conversation first, not counted: the first answers after a load run cold (measured: turn
    // 1 at 1747 ms, the next ones at 65-210 ms, slm-reference fp32). With reuse, so that every
    // counted conversation's turn 1 finds the shared system prompt kept, as on the server side
    // (a conversation with reuse off leaves the kept state as it was).
    await localConversation(page, true, script, 0, asked(script, WARMUP_TURNS));
    const on = [];
    const off = [];
    for (let i = 1; i <= repeats; i++) {
      on.push(await localConversation(page, true, script, i));
      const without = i <= baselineRepeats ? await localConversation(page, false, script, i, asked(script, BASELINE_TURNS)) : null;
      if (without) off.push(without);
      log(`ttft growth, local ${target.label} ${dtype}: conversation ${i}/${repeats}: turn 1 → 8 ${r2(on.at(-1)[0].ttft)} → ${r2(on.at(-1)[7].ttft)} ms with reuse${without ? `, ${r2(without[0].ttft)} → ${r2(without[7].ttft)} ms without` : ''}`);
    }
    const result = {
      model: target.label,
      dtype,
      answer_tokens: script.answerTokens,
      generated_tokens_per_turn: generatedTokens(script),
      short_turns: script.short,
      user_turn_tokens: script.turnTokens,
      history_answer_tokens: script.scriptedAnswerTokens ?? 'the model\'s own answers',
      history: script.answers ? (script.prime ? 'fixed answers, put into the kept state by an uncounted 1-token request' : 'fixed answers, prefilled by the next turn') : 'the model\'s answers',
      ttft_growth_local: growth(perTurn(on, 'ttft')),
      ttft_growth_local_no_reuse: growth(perTurn(off, 'ttft')),
      ttft_growth_local_runs: on.map((r) => growth(r.map((t) => t.ttft))),
      ttft_growth_local_no_reuse_runs: off.map((r) => growth(r.map((t) => t?.ttft ?? null))),
      no_reuse_turns_asked: asked(script, BASELINE_TURNS)?.map((t) => t + 1) ?? 'all',
      ttft_ms_per_turn: perTurn(on, 'ttft'),
      prefill_ms_per_turn: perTurn(on, 'prefillMs'),
      ttft_ms_per_turn_no_reuse: perTurn(off, 'ttft'),
      prefill_ms_per_turn_no_reuse: perTurn(off, 'prefillMs'),
      prompt_tokens_per_turn: on[0].map((t) => t.input),
      reused_tokens_per_turn: on[0].map((t) => t.reused),
    };
    log(`ttft growth, local ${target.label} ${dtype}: ${result.ttft_growth_local} with reuse, ${result.ttft_growth_local_no_reuse} without`);
    return result;
  } finally {
    await context.close();
  }
}

/**
 * The model's own growth on `target` (ttft-floor.mjs) for the local conversation's token counts,
 * and each side's growth over it: `ttft_growth_{local,server}_over_floor` is what the app adds.
 */
export async function growthFloor({ target, local, remote, log = () => {} }) {
  const config = JSON.parse(readFileSync(path.join(target.dir, 'config.json'), 'utf8'));
  const f = await ttftFloor({ dir: target.dir, dtype: target.dtype, config, prompt: local.prompt_tokens_per_turn, reused: local.reused_tokens_per_turn, log });
  return {
    ...f,
    ttft_growth_local_over_floor: overFloor(local.ttft_growth_local, f.ttft_growth_floor),
    ttft_growth_server_over_floor: overFloor(remote.ttft_growth_server, f.ttft_growth_floor),
  };
}

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { build, preview } = await import('vite');
  const log = (...a) => console.error('[bench]', ...a);
  const target = await openTarget({ model: arg('model', referenceModel()), scaleShape: arg('scale-shape', null), dtype: arg('dtype', 'fp32'), history: arg('history', 'primed'), log });
  const repeats = Number(arg('repeats', '5'));
  const baselineRepeats = Number(arg('baseline-repeats', String(Math.min(repeats, NO_REUSE_REPEATS))));
  const sides = arg('sides', 'local,server').split(',');
  if (!process.argv.includes('--no-build') || !existsSync('dist/index.html')) {
    log('building the app…');
    await build({ logLevel: 'warn' });
  }
  const server = await preview({ preview: { port: 0, strictPort: false }, logLevel: 'warn' });
  const appUrl = server.resolvedUrls?.local?.[0] ?? `http://localhost:${server.httpServer.address().port}/`;
  const browser = await launch();
  try {
    const local = sides.includes('local') ? await ttftGrowthLocal({ browser, appUrl, target, repeats, baselineRepeats, log }) : {};
    const remote = sides.includes('server') ? await ttftGrowthServer({ target, repeats, baselineRepeats, log }) : {};
    const floor = sides.includes('local') ? await growthFloor({ target, local, remote, log }) : {};
    console.log(JSON.stringify({ ...local, ...remote, ...floor }));
  } finally {
    await browser.close();
    await server.close();
    await target.close();
  }
}
