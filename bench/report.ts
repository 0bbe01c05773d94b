/**
 * Renders BENCHMARKS.md from bench/out/results.json: per figure its target, what was measured,
 * pass/fail, the command that reproduces it, and the machine it ran on. A hand-written analysis
 * (bench/analysis.md, if present) is appended as it is.
 *
 *   node dist/bench/report.js [results.json] [BENCHMARKS.md]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchOut } from './paths.js';
import type { FigureName, FigureResult, Results } from './results.js';

/** The flags that run one figure alone, as a reader would type them. */
function commandFor(figure: FigureResult): string {
  const p = figure.params;
  const only: Record<FigureName, string> = {
    plan: `--only plan --sizes ${String(p.n)} --runs ${String(p.runs)}`,
    noop: `--only noop -n ${String(p.n)}`,
    naive: `--only naive -n ${String(p.n)}`,
    rate: `--only rate --providers ${String(p.provider)}`,
    throughput: `--only throughput -n ${String(p.n)} --stores ${String(p.store)}`,
    twilio: '--only twilio',
  };
  return `npm run bench -- ${only[figure.figure]}`;
}

const mark = (pass: boolean | null): string => (pass === null ? '' : pass ? 'pass' : '**FAIL**');
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderMarkdown(results: Results, analysis = readAnalysis()): string {
  const m = results.machine;
  const date = results.startedAt.slice(0, 10);
  const minutes = (Date.parse(results.finishedAt) - Date.parse(results.startedAt)) / 60_000;
  const lines: string[] = [
    '# Benchmarks',
    '',
    'The targets of SPEC section 7, measured by `npm run bench` (code in `bench/`, how it works in',
    '`docs/bench.md`). This file is generated from `bench/out/results.json` by `bench/report.ts`; the',
    'analysis at the end is written by hand.',
    '',
    `- **Run**: \`${results.command}\`, ${date}, ${minutes.toFixed(1)} min`,
    `- **Machine**: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGb} GB memory, Node ${m.node}, ${m.platform}`,
    `- **Load**: 1-minute load average ${m.loadStart.toFixed(2)} at the start, ${m.loadEnd.toFixed(2)} at the end. The machine was shared`,
    '  with other engineers building and testing at the same time, so absolute times are noisy: each figure',
    '  reports medians, and the plan figure compares the plan with a bare read measured in the same process,',
    '  alternating, under the same load.',
    '',
    '## Summary',
    '',
    '| figure | measure | target | measured | |',
    '|---|---|---|---|---|',
  ];
  for (const f of results.figures) {
    for (const c of f.checks.filter((c) => c.pass !== null)) lines.push(`| ${cell(f.title)} | ${cell(c.name)} | ${cell(c.target)} | ${cell(c.measured)} | ${mark(c.pass)} |`);
  }
  for (const f of results.figures) {
    lines.push('', `## ${f.title}`, '', `\`${commandFor(f)}\``, '', '| measure | target | measured | |', '|---|---|---|---|');
    for (const c of f.checks) lines.push(`| ${cell(c.name)} | ${cell(c.target)} | ${cell(c.measured)} | ${mark(c.pass)} |`);
    for (const note of f.notes) lines.push('', `Note: ${note}`);
    lines.push('', '<details><summary>raw numbers</summary>', '', '```json', JSON.stringify(f.data, rounded), '```', '', '</details>');
  }
  if (analysis !== undefined) lines.push('', analysis.trim());
  return `${lines.join('\n')}\n`;
}

/** Milliseconds and ratios to one decimal: the raw numbers stay readable. */
function rounded(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 10) / 10 : value;
}

function readAnalysis(): string | undefined {
  const file = join(benchOut, '..', 'analysis.md');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const input = process.argv[2] ?? join(benchOut, 'results.json');
  const output = process.argv[3] ?? join(benchOut, '..', '..', 'BENCHMARKS.md');
  writeFileSync(output, renderMarkdown(JSON.parse(readFileSync(input, 'utf8')) as Results));
  console.log(`wrote ${output}`);
}
