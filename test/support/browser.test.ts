import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  browserAvailability,
  findBrowser,
  skipWithoutBrowser,
  type BrowserSearch,
} from './browser.ts';

/** A machine whose only executables are `present`. */
const machine = (
  present: string[],
  env: Record<string, string | undefined> = {},
  platform: NodeJS.Platform = 'linux',
): BrowserSearch => ({
  env: { PATH: '/usr/local/bin:/usr/bin', ...env },
  platform,
  home: '/home/ada',
  isExecutable: (path) => present.includes(path),
});

describe('findBrowser', () => {
  it('takes CHROMIUM_PATH first, over anything on PATH', () => {
    const search = machine(['/opt/chrome/chrome', '/usr/bin/chromium'], {
      CHROMIUM_PATH: '/opt/chrome/chrome',
    });
    expect(findBrowser(search)).toBe('/opt/chrome/chrome');
  });

  it('falls back to PATH when CHROMIUM_PATH is not executable', () => {
    const search = machine(['/usr/bin/chromium'], { CHROMIUM_PATH: '/nowhere/chromium' });
    expect(findBrowser(search)).toBe('/usr/bin/chromium');
  });

  it.each([
    ['/usr/bin/chromium', 'Debian, Fedora, Arch'],
    ['/usr/bin/chromium-browser', 'Ubuntu'],
    ['/usr/local/bin/google-chrome', "Google's package"],
    ['/usr/bin/google-chrome-stable', "Google's package, versioned name"],
  ])('finds %s (%s) on PATH', (path) => {
    expect(findBrowser(machine([path]))).toBe(path);
  });

  it('prefers the earlier command, then the earlier PATH folder', () => {
    expect(findBrowser(machine(['/usr/local/bin/google-chrome', '/usr/bin/chromium']))).toBe(
      '/usr/bin/chromium',
    );
    expect(findBrowser(machine(['/usr/bin/chromium', '/usr/local/bin/chromium']))).toBe(
      '/usr/local/bin/chromium',
    );
  });

  it('looks in the macOS application folders, system-wide then per user, only on macOS', () => {
    const chrome = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    const usersChromium = '/home/ada/Applications/Chromium.app/Contents/MacOS/Chromium';
    expect(findBrowser(machine([chrome, usersChromium], {}, 'darwin'))).toBe(chrome);
    expect(findBrowser(machine([usersChromium], {}, 'darwin'))).toBe(usersChromium);
    expect(findBrowser(machine([chrome], {}, 'linux'))).toBeUndefined();
  });

  it('finds nothing on a machine without a browser', () => {
    expect(findBrowser(machine([]))).toBeUndefined();
  });
});

describe('browserAvailability', () => {
  it('runs the tests when a browser is found', () => {
    expect(browserAvailability(machine(['/usr/bin/chromium']))).toEqual({
      executable: '/usr/bin/chromium',
      skip: false,
    });
  });

  it('skips without a browser, saying how to enable the tests', () => {
    const availability = browserAvailability(machine([], { CHROMIUM_PATH: '/nowhere' }));
    expect(availability.skip).toBe(true);
    expect(availability.missing).toContain('CHROMIUM_PATH=/nowhere is not an executable file');
    expect(availability.missing).toContain('set CHROMIUM_PATH');
  });

  it('does not skip under CI=true: the browser tests run and fail', () => {
    const availability = browserAvailability(machine([], { CI: 'true' }));
    expect(availability.skip).toBe(false);
    expect(availability.executable).toBeUndefined();
  });

  it('prints exactly one line when it skips', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(skipWithoutBrowser(browserAvailability(machine([])))).toBe(true);
      expect(warn).toHaveBeenCalledTimes(1);
      const line = String(warn.mock.calls[0]?.[0]);
      expect(line).toMatch(/^Browser tests skipped: .*CHROMIUM_PATH.*\.$/);
      expect(line).not.toContain('\n');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('on this file system', () => {
  const folder = mkdtempSync(join(tmpdir(), 'browser-path-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'test/support/browser-path.ts'], {
      env: { HOME: folder, ...env },
      encoding: 'utf8',
    });

  it('finds an executable on PATH and ignores a file that is not executable', () => {
    writeFileSync(join(folder, 'chromium'), '', { mode: 0o644 });
    writeFileSync(join(folder, 'google-chrome'), '#!/bin/sh\n', { mode: 0o755 });
    const found = run({ PATH: folder, CHROMIUM_PATH: join(folder, 'missing') });
    expect(found.stdout.trim()).toBe(join(folder, 'google-chrome'));
    expect(found.status).toBe(0);
  });

  it('says what to do when there is none', () => {
    const none = run({ PATH: join(folder, 'empty'), CHROMIUM_PATH: '/nowhere/chromium' });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no Chromium-family browser found');
  });
});
