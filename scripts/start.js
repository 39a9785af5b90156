#!/usr/bin/env node
// `npm start`: the demo. Node-RED (the devDependency) on 127.0.0.1:${PORT:-1880}
// with this package loaded and the flow from flows/ deployed, user directory
// .node-red-data/ inside the project (git-ignored). No hardware, no API key:
// the flow runs on the simulated DALI bus with embedded SQLite.
//
// The demo flow is copied to .node-red-data/flows.json at every start so that
// the demo always matches this checkout; set KEEP_FLOWS=1 to keep your edits.
//
// Dashboard: when FlowFuse Dashboard 2 (@flowfuse/node-red-dashboard, a
// devDependency, never a runtime dependency of the package) can be found from
// this project, it is linked into the user directory and the add-on flow
// flows/smart-lighting-dashboard.json is merged into flows.json (Node-RED loads
// one flow file): the page is at /dashboard. Without it the demo starts as
// before and says how to add it. NO_DASHBOARD=1 leaves it out.
//
// Demo clock: the simulated building runs from DEMO_CLOCK (HH:MM, default
// 08:55; "real" = the wall clock) at DEMO_SPEED (1-60 scenario minutes per
// real minute, default 1), so people arrive and lights rise at any real hour.
// The rules and feature windows use the same clock; a real DALI interface never
// does (lib/features/demo-clock). NODE_RED_DIR: another node-red package to run.
'use strict';
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const userDir = process.env.NODE_RED_USER_DIR || path.join(root, '.node-red-data');
const port = Number(process.env.PORT || 1880);
const host = process.env.HOST || '127.0.0.1';
const demoFlow = path.join(root, 'flows', process.env.DEMO_FLOW || 'smart-lighting.json');
const dashboardFlow = path.join(root, 'flows', 'smart-lighting-dashboard.json');
const DASHBOARD = '@flowfuse/node-red-dashboard';

if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) {
  console.error('dist/ is missing: run `npm install` (it builds the package) or `npm run build` first.');
  process.exit(1);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a TCP port number, got "${process.env.PORT}"`);
  process.exit(1);
}

// The demo clock, checked here so a typo stops the start with a clear message.
const env = { ...process.env };
env.DEMO_CLOCK = (env.DEMO_CLOCK ?? '08:55').trim();
if (env.DEMO_CLOCK.toLowerCase() === 'real') env.DEMO_CLOCK = '';
let demoClock = null;
try {
  const { demoClockFromEnv } = require(path.join(root, 'dist', 'lib', 'features', 'demo-clock.js'));
  env.DEMO_CLOCK_EPOCH_MS = String(Date.now());
  demoClock = demoClockFromEnv(env);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
if (!demoClock) delete env.DEMO_CLOCK_EPOCH_MS;
env.SMART_LIGHTING_API_URL = env.SMART_LIGHTING_API_URL || `http://127.0.0.1:${port}`;

fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
// Load this checkout as an installed module: node_modules/<name> -> project root.
const link = path.join(userDir, 'node_modules', pkg.name);
fs.mkdirSync(path.dirname(link), { recursive: true }); // the scope folder
try {
  const target = fs.readlinkSync(link);
  if (path.resolve(path.dirname(link), target) !== root) {
    fs.unlinkSync(link);
    fs.symlinkSync(root, link, 'dir');
  }
} catch {
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(root, link, 'dir');
}
const userPkg = path.join(userDir, 'package.json');
if (!fs.existsSync(userPkg)) {
  fs.writeFileSync(userPkg, JSON.stringify({ name: 'node-red-user-dir', private: true, description: 'npm start demo' }, null, 2));
}

// A credential secret for this user directory, created once, so credentials
// (admin token, OpenAI key) are encrypted at rest and Node-RED does not warn.
const secretFile = path.join(userDir, '.credential-secret');
if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, crypto.randomBytes(24).toString('hex'), { mode: 0o600 });

// Dashboard 2 from this project's node_modules, linked into the user directory like a palette install.
let dashboardDir = null;
if (process.env.NO_DASHBOARD !== '1') {
  try {
    dashboardDir = path.dirname(require.resolve(`${DASHBOARD}/package.json`, { paths: [root] }));
  } catch {
    dashboardDir = null;
  }
}
const dashLink = path.join(userDir, 'node_modules', ...DASHBOARD.split('/'));
if (dashboardDir) {
  let current = null;
  try {
    current = fs.realpathSync(dashLink);
  } catch {
    current = null;
  }
  if (current !== fs.realpathSync(dashboardDir)) {
    fs.rmSync(dashLink, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dashLink), { recursive: true });
    fs.symlinkSync(dashboardDir, dashLink, 'dir');
  }
} else if (fs.existsSync(dashLink) && fs.lstatSync(dashLink).isSymbolicLink()) {
  fs.unlinkSync(dashLink); // a link this script made earlier: the dashboard is not wanted (or gone) now
}

const flowFile = path.join(userDir, 'flows.json');
if (fs.existsSync(demoFlow) && (!fs.existsSync(flowFile) || process.env.KEEP_FLOWS !== '1')) {
  const nodes = JSON.parse(fs.readFileSync(demoFlow, 'utf8'));
  if (dashboardDir && !process.env.DEMO_FLOW && fs.existsSync(dashboardFlow)) {
    nodes.push(...JSON.parse(fs.readFileSync(dashboardFlow, 'utf8')));
  }
  const text = JSON.stringify(nodes, null, 2);
  // Edits made in the editor since the last start are not lost without a word: kept beside it.
  if (fs.existsSync(flowFile) && fs.readFileSync(flowFile, 'utf8') !== text) {
    const kept = `${flowFile}.${new Date().toISOString().replace(/[:.]/g, '-')}.bak`;
    fs.copyFileSync(flowFile, kept);
    console.log(`flows.json differed from the demo flow (edited in the editor?): kept as ${kept}; KEEP_FLOWS=1 npm start keeps your edits`);
  }
  fs.writeFileSync(flowFile, text);
}

const settingsFile = path.join(userDir, 'settings.js');
fs.writeFileSync(
  settingsFile,
  `// Generated by scripts/start.js at every start; edit that script, not this file.
const fs = require("fs");
module.exports = {
  uiHost: ${JSON.stringify(host)},
  uiPort: ${port},
  userDir: ${JSON.stringify(userDir)},
  flowFile: "flows.json",
  flowFilePretty: true,
  credentialSecret: process.env.NODE_RED_CREDENTIAL_SECRET || fs.readFileSync(${JSON.stringify(secretFile)}, "utf8"),
  httpNodeRoot: "/",
  logging: { console: { level: process.env.LOG_LEVEL || "info", metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: { tours: false, projects: { enabled: false } },
  functionExternalModules: false,
  // Node context on disk (userDir/context, written every 30 s and at stop):
  // the rules' zone state (occupancy hold, output, daylight model) survives a restart.
  contextStorage: { default: { module: "localfilesystem" } },
};
`,
);

const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
if (demoClock) {
  console.log(
    `[demo] the simulated building's clock starts at ${demoClock.label(Date.now())} and runs at ${demoClock.spec.speed}x (DEMO_CLOCK, DEMO_SPEED; DEMO_CLOCK=real for the wall clock)`,
  );
} else console.log('[demo] the simulated building runs on the wall clock (DEMO_CLOCK=HH:MM to choose its time of day)');
if (dashboardDir) console.log(`[demo] dashboard: ${base}/dashboard   reports: ${base}/report?period=day`);
else if (process.env.NO_DASHBOARD === '1') console.log(`[demo] no dashboard (NO_DASHBOARD=1); reports: ${base}/report?period=day`);
else {
  console.log(`[demo] no dashboard: ${DASHBOARD} is not installed. Add it with \`npm install --no-save ${DASHBOARD}\``);
  console.log(`[demo]   (or \`npm install\` with dev dependencies) and start again; reports: ${base}/report?period=day`);
}

const redDir = process.env.NODE_RED_DIR || path.dirname(require.resolve('node-red/package.json'));
const red = path.join(redDir, 'red.js');
const child = spawn(process.execPath, [red, '--settings', settingsFile, '--userDir', userDir], {
  stdio: 'inherit',
  env,
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
