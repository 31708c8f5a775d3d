/**
 * A real headless Chromium for page tests: Debian's `/usr/bin/chromium`
 * (`.ci/run` installs it), started here like redis-server (stopped by its
 * pid in teardown, its profile folder removed) and driven by playwright-core
 * over the DevTools protocol. Nothing is downloaded: playwright's own browser
 * builds are never used, and the flags keep Chromium off the network (this
 * machine has none but the loopback).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { stopProcess } from './processes.js';

/** Where Debian's package puts the browser; CHROMIUM overrides it. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--remote-debugging-port=0',
];

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts Chromium and connects to it; both are closed in `t`'s teardown. */
export async function startBrowser(t: Teardown): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (as .ci/run does), or set CHROMIUM`);
  const profile = mkdtempSync(join(tmpdir(), 'shardcache-chromium-'));
  const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(async () => {
    await stopProcess(child);
    rmSync(profile, { recursive: true, force: true });
  });
  let stderr = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chromium did not open its DevTools port:\n${stderr}`)), 20000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m === null) return;
      clearTimeout(timer);
      resolve(m[1]!);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited with ${code}:\n${stderr}`));
    });
  });
  const browser = await chromium.connectOverCDP(endpoint);
  t.teardown(() => browser.close().catch(() => undefined));
  return browser;
}
