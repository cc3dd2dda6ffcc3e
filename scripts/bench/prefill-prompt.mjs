/**
 * The prefill figures' prompt (scale rows: `native_prefill_tps`, `browser_prefill_tps`,
 * `prefill_ratio`): one user message of ~280 tokens (the scale models' tokenizer), prefilled whole every time (no KV
 * reuse), so the figure is the prompt's forward pass and not the 20-odd tokens of BENCH_PROMPT,
 * whose first answers also carry the load's leftovers.
 */
export const PREFILL_PROMPT = [
  {
    role: 'user',
    content:
      'Read the notes and answer in one sentence. The library opens at nine on weekdays and at ten on Saturdays, and is ' +
      'closed on Sundays. Members may borrow eight books for three weeks. The reading room is quiet: no calls, and laptops ' +
      'only at the tables by the windows. Colour printing costs fifty cents a page, paid by card. Question: what should a ' +
      'member who wants to print and work on a laptop on Saturday at half past nine know?',
  },
];

