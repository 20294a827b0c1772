// Loads an eval report.html in headless Debian chromium (playwright-core from tests/browser)
// and prints {"console_errors":[...],"page_errors":[...],"failed_requests":[...],
// "sections":{"id":visible},"svg":N} as JSON. Optional: --screenshot PNG.
//   node eval_report_check.mjs REPORT.html [--screenshot out.png]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../browser/package.json'));
const { chromium } = require('playwright-core');
const [file, flag, shot] = process.argv.slice(2);
const sections = ['header', 'quality', 'escalation', 'latency', 'tokens', 'cost', 'worst'];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'] });
const out = { console_errors: [], page_errors: [], failed_requests: [], sections: {}, svg: 0 };
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
  page.on('console', (m) => { if (m.type() === 'error') out.console_errors.push(m.text()); });
  page.on('pageerror', (e) => out.page_errors.push(String(e)));
  page.on('requestfailed', (r) => out.failed_requests.push(r.url()));
  // Anything but the file itself would be a fetch the report must not make.
  page.on('request', (r) => { if (!r.url().startsWith('file:')) out.failed_requests.push(r.url()); });
  await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: 'load' });
  for (const id of sections) {
    out.sections[id] = await page.locator('#' + id).isVisible();
  }
  out.svg = await page.locator('svg').count();
  if (flag === '--screenshot' && shot) await page.screenshot({ path: shot, fullPage: false });
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
