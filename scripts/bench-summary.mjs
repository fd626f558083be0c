// The run's one summary table (docs/benchmarks.md, "The summary table"), for scripts/bench.sh:
// `node scripts/bench-summary.mjs <run folder>` reads the rows the benches appended to
// <run folder>/summary.jsonl (tests/benches/support/summary.rs), prints the table as Markdown on
// stdout (bench.sh appends it to results.md) and writes the chart <run folder>/summary.svg.
// Nothing is measured or judged here: every figure, and met / not met, comes from the benches.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

// The goals the table always lists, so one a run did not measure shows as such; the last field
// is the chart's short label.
const GOALS = [
  ['a', 'password submit → Home painted ÷ the identity server\'s own time (HTTP floor)', 1.5, 'shell', 'submit → Home ÷ HTTP floor'],
  ['b', 'release binary ÷ bare Tauri app (same profile)', 1.5, 'shell', 'binary size ÷ bare app'],
  ['c', 'exec → first screen painted ÷ bare app', 1.1, 'shell', 'exec → first paint ÷ bare app'],
  ['d', 'process-tree PSS on Home ÷ bare app\'s screen', 1.2, 'shell', 'tree PSS on Home ÷ bare app'],
  ['e', 'engine CPU per first-run flow ÷ openid-client, TLS on both sides', 0.1, 'peers', 'engine CPU ÷ openid-client, TLS'],
];

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node scripts/bench-summary.mjs <run folder>\n');
  process.exit(2);
}
const file = join(dir, 'summary.jsonl');
const rows = existsSync(file)
  ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
  : [];
const byId = new Map(rows.map((r) => [r.id, r])); // a bench run twice: its last row

const num = (v, unit) => {
  if (unit === 'MiB') return `${v.toFixed(2)} MiB`;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
};
const times = (v) => `${v < 0.5 ? v.toFixed(3) : v.toFixed(2)}×`;

const out = [];
out.push('## Summary: every ratio goal, each against its baseline from this run', '');
out.push('Subject and baseline are medians over the rounds; the judged figure is the ratio of those '
  + 'medians. The per-round ratio divides the two sides of each round (measured next to each other, '
  + 'in alternating order): its median, interquartile range and min–max show the spread. Written by '
  + '`scripts/bench-summary.mjs` from the rows the benches wrote (`summary.jsonl`).', '');
out.push('| | ratio | subject (median) | baseline (median) | ratio of medians | per-round ratio: median [IQR] (min–max) | rounds | goal | |');
out.push('|---|---|---:|---:|---:|---|---:|---:|---|');
for (const [id, what, goal, bench] of GOALS) {
  const r = byId.get(id);
  if (!r) {
    out.push(`| ${id} | ${what} | | | | | 0 | ≤ ${goal}× | not measured in this run (bench \`${bench}\`) |`);
    continue;
  }
  const p = r.per_round;
  const spread = r.rounds > 1
    ? `${times(p.median)} [${times(p.q1)}–${times(p.q3)}] (${times(p.min)}–${times(p.max)})`
    : 'one value per side: it does not vary between runs of the same build';
  const verdict = r.met ? 'met' : '**NOT met**';
  out.push(`| ${id} | ${r.ratio} | ${r.subject}: ${num(r.subject_median, r.unit)} | `
    + `${r.baseline}: ${num(r.baseline_median, r.unit)} | **${times(r.ratio_of_medians)}** | ${spread} | `
    + `${r.rounds} | ≤ ${r.goal}× | ${verdict}${r.quick ? ' (quick run: not a result)' : ''} |`);
}
for (const r of rows) {
  if (!GOALS.some(([id]) => id === r.id)) out.push(`| ${r.id} | ${r.ratio} | (a row no goal above names) | | ${times(r.ratio_of_medians)} | | ${r.rounds} | ≤ ${r.goal}× | |`);
}

// ---- The chart: one row per goal, on a log scale (the goals range from 0.1× to 1.5×). ----
const measured = GOALS.map(([id, , goal, , label]) => [id, label, goal, byId.get(id)]);
const values = measured.flatMap(([, , goal, r]) => (r ? [goal, r.per_round.min, r.per_round.max, r.ratio_of_medians] : [goal]));
const lo = Math.min(0.05, ...values) / 1.3;
const hi = Math.max(2, ...values) * 1.3;
const [labelW, plotW, rowH, top] = [250, 480, 34, 56];
const x = (v) => labelW + ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotW;
const height = top + rowH * GOALS.length + 40;
const width = labelW + plotW + 70;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const svg = [];
svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
svg.push('<rect width="100%" height="100%" fill="#ffffff"/>');
svg.push('<text x="8" y="18" font-size="13" fill="#1b1f27">Every ratio goal: subject ÷ baseline from this run (log scale)</text>');
svg.push('<text x="8" y="36" fill="#5b6372">dot: ratio of medians (green: met) · bar: IQR, whisker: min–max of per-round ratios · tick: goal</text>');
const base = top + rowH * GOALS.length;
for (const tick of [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20]) {
  if (tick < lo || tick > hi) continue;
  svg.push(`<line x1="${x(tick).toFixed(1)}" x2="${x(tick).toFixed(1)}" y1="${top - 6}" y2="${base}" stroke="#d0d4dc"${tick === 1 ? ' stroke-dasharray="3 3" stroke-width="1.5"' : ''}/>`);
  svg.push(`<text x="${x(tick).toFixed(1)}" y="${base + 16}" text-anchor="middle" fill="#5b6372">${tick}×</text>`);
}
measured.forEach(([id, what, goal, r], i) => {
  const y = top + rowH * i;
  const mid = y + rowH / 2 - 4;
  svg.push(`<text x="${labelW - 8}" y="${mid + 4}" text-anchor="end" fill="#1b1f27">${id}  ${esc(what)}</text>`);
  svg.push(`<line x1="${x(goal).toFixed(1)}" x2="${x(goal).toFixed(1)}" y1="${y + 2}" y2="${y + rowH - 10}" stroke="#1b1f27" stroke-width="2.5"/>`);
  if (!r) {
    svg.push(`<text x="${labelW + 6}" y="${mid + 4}" fill="#5b6372">not measured in this run</text>`);
    return;
  }
  const colour = r.met ? '#1f8a4c' : '#b42318';
  const p = r.per_round;
  svg.push(`<line x1="${x(p.min).toFixed(1)}" x2="${x(p.max).toFixed(1)}" y1="${mid}" y2="${mid}" stroke="${colour}" stroke-width="1.5"/>`);
  svg.push(`<rect x="${x(p.q1).toFixed(1)}" y="${mid - 6}" width="${Math.max(1, x(p.q3) - x(p.q1)).toFixed(1)}" height="12" fill="${colour}" fill-opacity="0.35" stroke="${colour}"/>`);
  svg.push(`<circle cx="${x(r.ratio_of_medians).toFixed(1)}" cy="${mid}" r="4.5" fill="${colour}"/>`);
  svg.push(`<text x="${(x(Math.max(p.max, goal)) + 8).toFixed(1)}" y="${mid + 4}" fill="#1b1f27">${times(r.ratio_of_medians)}</text>`);
});
svg.push('</svg>');
writeFileSync(join(dir, 'summary.svg'), `${svg.join('\n')}\n`);
out.push('', '![Every ratio goal against its baseline from this run](summary.svg)', '');
process.stdout.write(`${out.join('\n')}\n`);
