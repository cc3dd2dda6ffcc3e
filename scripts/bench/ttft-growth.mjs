/**
 * TTFT growth over a conversation (issue 14): TTFT at turn 8 ÷ TTFT at turn 1 of a scripted 8-turn
 * chat (user turns of ~30 tokens, answers of 40), greedy.
 *   ttft_growth_local            the model worker (harness.html) with the KV cache kept across turns
 *   ttft_growth_local_no_reuse   the same, every prompt prefilled whole (the baseline)
 *   ttft_growth_server           the reference server with its prefix cache, TTFT seen by a client
 *   ttft_growth_server_no_reuse  the same server with --kv-cache-mb 0
 * On the embedded models a turn's TTFT is a few ms and mostly noise; the figures that matter are
 * on a model whose prefill users wait for (the 135M-shape scale model): pass it with --model.
 *
 * Every counted conversation is a new one to the cache: its first user turn carries the
 * conversation's number, so it shares only the system prompt with the ones before (as a user's
 * next chat would). Measured before this (2026-11-30): the repeats were the same conversation, so
 * from the second one on the server's LRU (and the worker's kept state) held all of it and turn 1
 * reused its whole prompt — the median then mixed a cold turn 1 with fully cached ones, and
 * ttft_growth_server read 1.02–1.54 across runs. Each side also runs one uncounted conversation
 * first (the first answers after a load or a server start run cold), and the medians are over 5.
 *
 *   npm run bench:ttft-growth -- [--model slm-reference] [--dtype fp32] [--no-build]
 *
 * A benchmark: it returns figures and asserts nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from '../../src/metrics/stats.ts';
import { launch, openHarness } from './browser.mjs';
import { referenceModel, startReferenceServer } from './hosted.mjs';

const r2 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);
const SYSTEM = 'You are a helpful assistant. Answer the question in a few sentences, plainly and without lists.';
/** Eight user turns of ~30 tokens each (the embedded tokenizers: ~4 characters a token). */
export const USER_TURNS = [
  'I am planning a weekend trip to Paris in the spring with two friends. What are the three places we should not miss, and why?',
  'That sounds good. We also like food a lot. Which neighbourhood would you pick for a long dinner on the first evening, and why?',
  'On the second day we want to walk a lot. Can you suggest a route along the river that starts near a museum and ends at a park?',
  'One of my friends does not like crowds at all. Which of the places you named are quieter early in the morning on a weekday?',
  'We will arrive by train from London. How long does the trip take, and what is the easiest way to get from the station to the hotel?',
  'Our budget for the weekend is limited. What are some free things to do in the city that are still worth the time of a visitor?',
  'If it rains on Sunday, which indoor places would you recommend for an afternoon, apart from the big museums everybody visits?',
  'Thanks for all of this. Can you now sum up the plan for the two days in a short paragraph that I can send to my friends?',
];
/**
 * The script for `model`: ~30-token user turns and 40-token answers where the context holds them
 * (1024+ tokens); the embedded models read at most 512 tokens of a ~1-character-a-token
 * vocabulary, so there the system prompt is one line, turns are cut to 24 characters and answers
 * to 12 tokens (said in the result).
 */
export function scriptFor(model) {
  let ctx = null;
  try {
    ctx = JSON.parse(readFileSync(`public/models/${model}/config.json`, 'utf8')).max_position_embeddings ?? null;
  } catch {
    // unknown: the full script
  }
  const short = ctx !== null && ctx < 1024;
  return { system: short ? 'Answer briefly.' : SYSTEM, turns: short ? USER_TURNS.map((t) => t.slice(0, 24)) : USER_TURNS, answerTokens: short ? 12 : 40, short };
}

const growth = (ttfts) => (ttfts.length === 8 && ttfts[0] > 0 ? r2(ttfts[7] / ttfts[0]) : null);

/** The script's user turns for conversation number `tag`: the first turn names it (same length). */
export function turnsFor(script, tag) {
  const first = script.turns[0];
  return [`#${tag} ${first}`.slice(0, script.short ? first.length : undefined), ...script.turns.slice(1)];
}

/** The script in the model worker; `reuse` false prefills every prompt whole. TTFT per turn (page clock). */
async function localConversation(page, reuse, script, tag) {
  return page.evaluate(
    async ([system, turns, n, r]) => {
      const messages = [{ role: 'system', content: system }];
      const out = [];
      for (const content of turns) {
        messages.push({ role: 'user', content });
        const run = await window.slmHarness.generate(messages, { greedy: true, maxNewTokens: n, minNewTokens: n }, r);
        out.push({ ttft: run.metrics.ttftMs, input: run.metrics.inputTokens, reused: run.metrics.reusedInputTokens ?? null });
        messages.push({ role: 'assistant', content: run.text });
      }
      return out;
    },
    [script.system, turnsFor(script, tag), script.answerTokens, reuse],
  );
}

/** ttft_growth_local with reuse on and off, per-turn medians over `repeats` conversations each (interleaved). */
export async function ttftGrowthLocal({ browser, appUrl, model, dtype = 'fp32', repeats = 5, log = () => {} }) {
  const { context, page } = await openHarness(browser, appUrl);
  try {
    await page.evaluate((o) => window.slmHarness.load(o), { source: { type: 'bundled', modelId: model }, dtype, device: 'wasm', threads: 1, warmup: null });
    const script = scriptFor(model);
    // One conversation first, not counted: the first answers after a load run cold (measured: turn
    // 1 at 1747 ms, the next ones at 65-210 ms, slm-reference fp32).
    await localConversation(page, false, script, 0);
    const on = [];
    const off = [];
    for (let i = 1; i <= repeats; i++) {
      on.push(await localConversation(page, true, script, i));
      off.push(await localConversation(page, false, script, i));
    }
    const perTurn = (runs) => Array.from({ length: 8 }, (_, t) => r2(median(runs.map((r) => r[t]?.ttft ?? null))));
    const result = {
      model,
      dtype,
      answer_tokens: script.answerTokens,
      short_turns: script.short,
      ttft_growth_local: growth(perTurn(on)),
      ttft_growth_local_no_reuse: growth(perTurn(off)),
      ttft_growth_local_runs: on.map((r) => growth(r.map((t) => t.ttft))),
      ttft_ms_per_turn: perTurn(on),
      ttft_ms_per_turn_no_reuse: perTurn(off),
      prompt_tokens_per_turn: on[0].map((t) => t.input),
      reused_tokens_per_turn: on[0].map((t) => t.reused),
    };
    log(`ttft growth, local ${model} ${dtype}: ${result.ttft_growth_local} with reuse, ${result.ttft_growth_local_no_reuse} without`);
    return result;
  } finally {
    await context.close();
  }
}

/** One streamed request from Node; TTFT to the first content delta and the usage. */
async function streamOnce(server, messages, n) {
  const t0 = performance.now();
  const res = await fetch(`${server.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: server.model, messages, max_tokens: n, min_tokens: n, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  let ttft = null;
  let text = '';
  let usage = null;
  let buf = '';
  const decoder = new TextDecoder();
  for await (const part of res.body) {
    buf += decoder.decode(part, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) !== -1) {
      const line = buf.slice(0, i).replace(/^data: /, '');
      buf = buf.slice(i + 2);
      if (line === '[DONE]') continue;
      const ev = JSON.parse(line);
      const d = ev.choices?.[0]?.delta?.content;
      if (d) {
        ttft ??= performance.now() - t0;
        text += d;
      }
      if (ev.usage) usage = ev.usage;
    }
  }
  return { ttft, text, usage };
}

async function serverConversation(server, script, tag) {
  const messages = [{ role: 'system', content: script.system }];
  const out = [];
  for (const content of turnsFor(script, tag)) {
    messages.push({ role: 'user', content });
    const r = await streamOnce(server, messages, script.answerTokens);
    out.push({ ttft: r.ttft, input: r.usage?.prompt_tokens ?? null, cached: r.usage?.prompt_tokens_details?.cached_tokens ?? null });
    messages.push({ role: 'assistant', content: r.text });
  }
  return out;
}

/** ttft_growth_server with the prefix cache on and off (two server processes), per-turn medians over `repeats`. */
export async function ttftGrowthServer({ model, dtype = 'fp32', repeats = 5, log = () => {} }) {
  const result = { model, dtype };
  for (const [key, args] of [
    ['', []],
    ['_no_reuse', ['--kv-cache-mb', '0']],
  ]) {
    const server = await startReferenceServer({ model, extraArgs: ['--dtype', dtype, ...args], log });
    try {
      const script = scriptFor(model);
      await serverConversation(server, script, 0); // uncounted: the first answers after a start run cold
      const runs = [];
      for (let i = 1; i <= repeats; i++) runs.push(await serverConversation(server, script, i));
      const perTurn = Array.from({ length: 8 }, (_, t) => r2(median(runs.map((r) => r[t]?.ttft ?? null))));
      result[`ttft_growth_server${key}`] = growth(perTurn);
      result[`ttft_growth_server${key}_runs`] = runs.map((r) => growth(r.map((t) => t.ttft)));
      result[`ttft_ms_per_turn_server${key}`] = perTurn;
      if (!key) result.cached_tokens_per_turn = runs[0].map((t) => t.cached);
      if (!key) result.prompt_tokens_per_turn_server = runs[0].map((t) => t.input);
    } finally {
      await server.stop();
    }
  }
  log(`ttft growth, server ${model} ${dtype}: ${result.ttft_growth_server} with the prefix cache, ${result.ttft_growth_server_no_reuse} without`);
  return result;
}

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { build, preview } = await import('vite');
  const model = arg('model', referenceModel());
  const dtype = arg('dtype', 'fp32');
  const log = (...a) => console.error('[bench]', ...a);
  if (!process.argv.includes('--no-build') || !existsSync('dist/index.html')) {
    log('building the app…');
    await build({ logLevel: 'warn' });
  }
  const server = await preview({ preview: { port: 0, strictPort: false }, logLevel: 'warn' });
  const appUrl = server.resolvedUrls?.local?.[0] ?? `http://localhost:${server.httpServer.address().port}/`;
  const browser = await launch();
  try {
    const local = await ttftGrowthLocal({ browser, appUrl, model, dtype, log });
    const remote = await ttftGrowthServer({ model, dtype, log });
    console.log(JSON.stringify({ ...local, ...remote }));
  } finally {
    await browser.close();
    await server.close();
  }
}
