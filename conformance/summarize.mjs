// conformance/summarize.mjs — judge one conformance suite run.
//
// Usage: node summarize.mjs <suite-version> <results-dir> <baseline.txt> [scenario ...]
//
// <results-dir> holds one server-<scenario>-<timestamp>/checks.json per
// scenario (the suite's -o output). A scenario fails when one of its checks
// has status FAILURE (WARNING, INFO and SKIPPED do not fail it, as in the
// suite's own exit status). The listed scenarios are the ones the run was
// expected to produce: a missing one counts as a failure.
//
// The baseline file lists expected failures, one per line:
//   <suite-version> <scenario> <reason…>
// ('#' starts a comment). Only a scenario the suite itself gets wrong may be
// listed, and every entry needs its reason. Exit status 1 when a scenario
// fails and is not listed, or is listed and passes (a stale entry).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [version, dir, baselineFile, ...expected] = process.argv.slice(2);
if (!version || !dir || !baselineFile) {
  console.error('usage: node summarize.mjs <suite-version> <results-dir> <baseline.txt> [scenario ...]');
  process.exit(2);
}

const baseline = new Map();
if (existsSync(baselineFile)) {
  for (const [i, raw] of readFileSync(baselineFile, 'utf8').split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [v, scenario, ...reason] = line.split(/\s+/);
    if (!scenario || reason.length === 0) {
      console.error(`${baselineFile}:${i + 1}: an entry needs a suite version, a scenario and a reason`);
      process.exit(2);
    }
    if (v === version) baseline.set(scenario, reason.join(' '));
  }
}

const results = new Map();
const dirRe = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/;
for (const name of readdirSync(dir)) {
  const m = dirRe.exec(name);
  if (!m) continue;
  const file = join(dir, name, 'checks.json');
  if (!existsSync(file)) continue;
  const checks = JSON.parse(readFileSync(file, 'utf8'));
  const count = (s) => checks.filter((c) => c.status === s).length;
  results.set(m[1], {
    passed: count('SUCCESS'),
    failed: count('FAILURE'),
    warnings: count('WARNING'),
    other: checks.length - count('SUCCESS') - count('FAILURE') - count('WARNING'),
    failures: checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? c.description ?? ''}`),
    warned: checks.filter((c) => c.status === 'WARNING').map((c) => `warning ${c.id}: ${c.errorMessage ?? c.description ?? ''}`),
  });
}

const names = [...new Set([...expected, ...results.keys()])];
let passed = 0, failed = 0, warnings = 0, bad = 0, okScenarios = 0;
const lines = [];
for (const name of names) {
  const r = results.get(name);
  const listed = baseline.has(name);
  let verdict;
  if (!r) {
    verdict = listed ? 'baselined (no result)' : 'FAIL (no result)';
    if (!listed) bad++;
  } else if (r.failed > 0) {
    verdict = listed ? 'baselined' : 'FAIL';
    if (!listed) bad++;
  } else {
    verdict = listed ? 'STALE baseline entry' : 'ok';
    if (listed) bad++;
    else okScenarios++;
  }
  if (r) {
    passed += r.passed;
    failed += r.failed;
    warnings += r.warnings;
  }
  const counts = r ? `${String(r.passed).padStart(3)} passed ${String(r.failed).padStart(3)} failed ${String(r.warnings).padStart(2)} warnings` : '  - no checks.json -';
  lines.push(`  ${name.padEnd(48)} ${counts}  ${verdict}`);
  if (r && r.failed > 0) {
    for (const f of r.failures.slice(0, 5)) lines.push(`      ${f.slice(0, 200)}`);
    if (r.failures.length > 5) lines.push(`      … ${r.failures.length - 5} more in checks.json`);
  }
  // A warning (a SHOULD) does not fail the run, but says what to look at.
  if (r) for (const w of r.warned) lines.push(`      ${w.slice(0, 200)}`);
  if (listed && (!r || r.failed > 0)) lines.push(`      baseline: ${baseline.get(name)}`);
}

console.log(`conformance ${version}: ${names.length} scenarios`);
console.log(lines.join('\n'));
console.log(`conformance ${version}: ${okScenarios}/${names.length} scenarios clean; checks: ${passed} passed, ${failed} failed, ${warnings} warnings; ${bad === 0 ? 'OK' : `${bad} scenario(s) not as the baseline says`}`);
process.exit(bad === 0 ? 0 : 1);
