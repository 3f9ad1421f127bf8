// Re-renders the table of a finished run from its bench/results/<stamp>.json.
//   node --import tsx bench/render.ts bench/results/<stamp>.json
import { readFileSync } from 'node:fs';
import { coreTargets, renderTable, type RowResult } from './lib/report.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: render RESULTS.json');
  process.exit(2);
}
const { environment, results } = JSON.parse(readFileSync(file, 'utf8')) as {
  environment: string;
  results: RowResult[];
};
console.log(
  `${environment}\n\n${renderTable(results)}\n\n${coreTargets(results)
    .map((l) => `- ${l}`)
    .join('\n')}`,
);
