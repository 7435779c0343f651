// edgekv ui on a running world, measured (not a test: docs/ui.md reports its figures):
// loads the page in Debian's chromium, headless, writes KEY through PoP VIA from the page and
// waits until every node serves it (or TIMEOUT_MS), then prints how long after each node
// started serving the write the page showed it (under push: after its arrival), and saves a
// screenshot.   Usage: node measure.mjs URL VIA OUT.png [TIMEOUT_MS]
import puppeteer from 'puppeteer-core';

const [url, via, shot, timeout = '20000'] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({width: 1280, height: 860});
  await page.goto(url, {waitUntil: 'load'});
  await page.waitForFunction(() => window.ekv && window.ekv.ready, {timeout: 20000});
  await page.$eval('#key', (e) => { e.value = 'lesson'; });
  await page.select('#via', via);
  const t0 = Date.now();
  await page.click('#write');
  const n = await page.evaluate(() => window.ekv.world.nodes.length);
  await page.waitForFunction((k) => window.ekv.latency.length >= k, {timeout: +timeout}, n)
    .catch(() => {});
  const lat = (await page.evaluate(() => window.ekv.latency)).sort((a, b) => a - b);
  const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN;
  console.log(`${lat.length} of ${n} nodes shown serving after ${Date.now() - t0} ms; ` +
    `page behind the node (ms): p50 ${q(0.5).toFixed(1)}, p90 ${q(0.9).toFixed(1)}, ` +
    `p99 ${q(0.99).toFixed(1)}, max ${q(1).toFixed(1)}`);
  await new Promise((r) => setTimeout(r, 500));
  await page.screenshot({path: shot, fullPage: true});
} finally {
  await browser.close();
}
