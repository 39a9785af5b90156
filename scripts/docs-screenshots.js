#!/usr/bin/env node
// Regenerates the pictures of the README: docs/main-flow.png (the control loop
// tab of the main flow in the Node-RED editor) and docs/dashboard.png (the
// Dashboard 2 page of the demo). Runs `npm start` (scripts/start.js) in a
// temporary user directory on a free port, waits for the demo building to come
// alive (demo clock 08:55), and takes both pictures in headless Chromium
// (E2E_CHROMIUM or /usr/bin/chromium, as the browser tests).
//
//   npm run build && node scripts/docs-screenshots.js
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const root = path.join(__dirname, '..');
const docs = path.join(root, 'docs');
const WAIT_MS = Number(process.env.WAIT_MS || 75000);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function until(what, ms, probe) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

(async () => {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slai-docs-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, PORT: String(port), NODE_RED_USER_DIR: userDir };
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let started = false;
  child.stdout.on('data', (d) => {
    if (/Started flows/.test(String(d))) started = true;
  });
  const browser = await chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
  });
  try {
    await until('the demo starts', 60000, async () => started);
    console.log(`[docs] waiting ${WAIT_MS / 1000} s for the building to come alive`);
    await new Promise((r) => setTimeout(r, WAIT_MS));

    const page = await browser.newPage({ viewport: { width: 1700, height: 560 } });
    await page.goto(`${base}/#flow/sl-tab`, { waitUntil: 'load' });
    await page.locator('#red-ui-workspace-chart').waitFor();
    await page.waitForTimeout(3000);
    for (const sel of ['.red-ui-tour-container', '#red-ui-notifications .red-ui-notification']) {
      await page.locator(sel).evaluateAll((els) => els.forEach((e) => e.remove()));
    }
    // The whole tab: no palette, no sidebar, zoomed out to fit.
    await page.evaluate(() => {
      const RED = globalThis.RED;
      RED.menu.setSelected('menu-item-palette', false);
      RED.menu.setSelected('menu-item-sidebar', false);
    });
    for (let i = 0; i < 3; i++) await page.locator('#red-ui-view-zoom-out').click();
    await page.mouse.move(900, 400); // no tooltip in the picture
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(docs, 'main-flow.png') });
    console.log('[docs] docs/main-flow.png');

    const dash = await browser.newPage({ viewport: { width: 1440, height: 1300 } });
    await dash.goto(`${base}/dashboard`, { waitUntil: 'load' });
    await dash.waitForURL(/\/dashboard\/building$/);
    await dash.waitForTimeout(5000);
    await dash.screenshot({ path: path.join(docs, 'dashboard.png'), fullPage: true });
    console.log('[docs] docs/dashboard.png');
  } finally {
    await browser.close();
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(userDir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
