/**
 * Micro-benchmark of the injection checks on a ~2 KB JSON body (the default level, all classes),
 * and of maskSensitive on log-sized strings. Run: `node --import tsx bench/waf-micro.ts`.
 * Prints the median CPU time per operation over several rounds; asserts nothing.
 */
import { compileInjection } from '../src/waf/config.js';
import { scanRequest, type ScanInput } from '../src/waf/scan-request.js';
import { orderBody } from './lib/payloads.js';

const body = {
  user: { name: "Seán O'Brien", email: 'sean.obrien@example.ie', phone: '+353 1 234 5678', locale: 'en-IE' },
  address: {
    line1: "12 Baker's Lane",
    line2: 'Apt. 4B',
    city: "St. John's",
    postcode: 'A1C 5M2',
    country: 'CA',
  },
  order: {
    id: 'ORD-2024-000123',
    notes:
      'Please leave the parcel at the door & ring twice; if nobody answers, try the neighbours at no. 14.',
    gift: true,
    message: 'Happy birthday! Select the best option from the menu and enjoy -- with love, Mum & Dad :)',
    items: Array.from({ length: 8 }, (_, i) => ({
      sku: `AB-${1000 + i}`,
      title: `Product number ${i} (blue, size M)`,
      quantity: i + 1,
      price: 9.99 + i,
      comment:
        i % 2 === 0
          ? 'Works great with the 2024 model, 5/5 would buy again!'
          : 'See https://example.com/p/123?ref=mail',
    })),
  },
  tags: ['gift', 'express', 'fragile'],
  review:
    'Great product!!! The 2 < 3 pricing tiers make sense; delivery was quick. Would recommend to friends & family.',
};
const text = JSON.stringify(body);
const plan = compileInjection({ ssrf: { detectUrls: false } }, (m) => {
  throw new Error(m);
});
const input: ScanInput = {
  query: 'page=2&sort=price&q=blue+shoes',
  params: { id: '12345' },
  header: (name) =>
    name === 'user-agent'
      ? 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'
      : undefined,
  body: { kind: 'json', value: body },
};

function measure(label: string, fn: () => void, iterations: number): void {
  for (let i = 0; i < iterations; i++) fn();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn();
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / iterations);
  }
  rounds.sort((a, b) => a - b);
  console.log(
    `${label}: median ${rounds[3]?.toFixed(2)} µs/op (min ${rounds[0]?.toFixed(2)}, max ${rounds[6]?.toFixed(2)})`,
  );
}

console.log(`JSON body: ${Buffer.byteLength(text)} bytes`);
measure(
  'injection scan of the parsed body + query + UA (paranoia 1)',
  () => void scanRequest(plan, input),
  20_000,
);
measure('JSON.parse of the same body (for scale)', () => void JSON.parse(text), 20_000);
// the order of bench/body-micro.ts, without its schema (every string inspected)
const order: ScanInput = {
  query: '',
  params: {},
  header: (name) => (name === 'user-agent' ? 'k6/0.49.0 (https://k6.io/)' : undefined),
  body: { kind: 'json', value: JSON.parse(orderBody()) as unknown },
};
measure(
  'injection scan of the bench order body, no schema (paranoia 1)',
  () => void scanRequest(plan, order),
  20_000,
);

const dlp = await import('../src/dlp/mask.js').catch(() => undefined);
if (dlp !== undefined) {
  const line =
    'user sean.obrien@example.ie paid with card 4111 1111 1111 1111 from 203.0.113.7 order ORD-2024-000123';
  const clean = 'GET /api/v1/orders?page=2 200 12ms user-agent=Mozilla/5.0 (X11; Linux x86_64)';
  measure(
    'maskSensitive on a 100-byte log line with a card and an e-mail',
    () => void dlp.maskSensitive(line),
    100_000,
  );
  measure('maskSensitive on a 80-byte clean log line', () => void dlp.maskSensitive(clean), 100_000);
  measure('maskSensitive on the 2 KB JSON text', () => void dlp.maskSensitive(text), 20_000);
}
