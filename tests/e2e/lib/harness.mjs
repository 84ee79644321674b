// Shared plumbing for the browser tests: skip rules (exit 77 = CTest SKIP_RETURN_CODE), making
// sure web/dist is built from the current sources, launching Debian's Chromium through
// playwright-core, free ports, and numbered steps with clear failure messages.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const WEB = join(REPO, 'web');
export const CHROMIUM = process.env.FOLIO_CHROMIUM ?? '/usr/bin/chromium';
export const SKIP = 77;
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function skip(reason) {
  console.log(`SKIP: ${reason}`);
  process.exit(SKIP);
}

/** playwright-core from web/node_modules, or a skip when it (or Chromium) is missing. */
export function loadPlaywright() {
  if (!existsSync(CHROMIUM)) skip(`no Chromium at ${CHROMIUM} (install Debian's chromium or set FOLIO_CHROMIUM)`);
  const require = createRequire(join(WEB, 'package.json'));
  try {
    return require('playwright-core');
  } catch {
    skip('web/node_modules/playwright-core is missing: run scripts/build-web.sh (npm ci in web/)');
  }
}

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

/** Rebuilds web/dist when it is missing or older than the page's sources. */
export function ensureWebBuilt() {
  const built = join(WEB, 'dist', 'index.html');
  const sources = ['src', 'index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json'].map((p) => join(WEB, p));
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newestMtime))) return;
  console.log('building web/dist (npm run build) ...');
  const run = spawnSync('npm', ['run', 'build'], { cwd: WEB, stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`npm run build in ${WEB} failed (exit ${run.status})`);
}

export async function launchBrowser(playwright) {
  return playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

let stepNo = 0;
/** Runs one named step; a failure says which step failed. */
export async function step(name, fn) {
  stepNo++;
  const t0 = Date.now();
  try {
    const value = await fn();
    console.log(`ok ${stepNo} - ${name} (${Date.now() - t0} ms)`);
    return value;
  } catch (e) {
    console.log(`not ok ${stepNo} - ${name}`);
    throw e;
  }
}

/** Words of a text, lower-cased, without punctuation. */
export function words(text) {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}
