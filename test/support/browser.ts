/**
 * Headless Chromium (or Google Chrome) driven by playwright-core, with a fresh profile each
 * launch and nothing reaching out to the network. The browser is whatever this machine has:
 * `findBrowser` looks where Linux distributions and macOS put one, so `npm test` works on any
 * machine; with none, browser tests skip with one line saying how to enable them (`CI=true`
 * turns that skip into a failure, so CI never passes without them).
 */
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Commands looked up on PATH, in order: Debian/Fedora/Arch, Ubuntu, Google's packages. */
export const BROWSER_COMMANDS = [
  'chromium',
  'chromium-browser',
  'google-chrome',
  'google-chrome-stable',
] as const;

/** Where macOS keeps the apps, system-wide or per user. */
const macAppPaths = (home: string): string[] =>
  ['/Applications', join(home, 'Applications')].flatMap((folder) => [
    join(folder, 'Chromium.app/Contents/MacOS/Chromium'),
    join(folder, 'Google Chrome.app/Contents/MacOS/Google Chrome'),
  ]);

export interface BrowserSearch {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  isExecutable: (path: string) => boolean;
}

const isExecutableFile = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const thisMachine = (): BrowserSearch => ({
  env: process.env,
  platform: process.platform,
  home: homedir(),
  isExecutable: isExecutableFile,
});

/** The places looked at, in order: CHROMIUM_PATH, the commands on PATH, the macOS apps. */
export const browserCandidates = (search: BrowserSearch): string[] => {
  const explicit = search.env.CHROMIUM_PATH ? [search.env.CHROMIUM_PATH] : [];
  const folders = (search.env.PATH ?? '').split(delimiter).filter(Boolean);
  const onPath = BROWSER_COMMANDS.flatMap((command) =>
    folders.map((folder) => join(folder, command)),
  );
  const apps = search.platform === 'darwin' ? macAppPaths(search.home) : [];
  return [...explicit, ...onPath, ...apps];
};

/** The first executable browser, or undefined when this machine has none. */
export const findBrowser = (search: BrowserSearch = thisMachine()): string | undefined =>
  browserCandidates(search).find((path) => search.isExecutable(path));

export const ENABLE_BROWSER_TESTS =
  `install Chromium or Google Chrome (e.g. \`apt-get install chromium\`), ` +
  `or set CHROMIUM_PATH to a Chromium-family browser`;

export interface BrowserAvailability {
  executable?: string;
  /** Why there is none and how to get one, when there is none. */
  missing?: string;
  /** Skip the browser tests: no browser, and not under CI=true (where they must fail instead). */
  skip: boolean;
}

/** Whether browser tests run here, and with which browser. */
export const browserAvailability = (search: BrowserSearch = thisMachine()): BrowserAvailability => {
  const executable = findBrowser(search);
  if (executable) return { executable, skip: false };
  const explicit = search.env.CHROMIUM_PATH
    ? ` (CHROMIUM_PATH=${search.env.CHROMIUM_PATH} is not an executable file)`
    : '';
  return {
    missing: `no Chromium-family browser found${explicit}: ${ENABLE_BROWSER_TESTS}`,
    skip: search.env.CI !== 'true',
  };
};

/**
 * For a browser test file: true when its tests should be skipped, after printing the one line
 * that says why and how to enable them.
 */
export const skipWithoutBrowser = (availability = browserAvailability()): boolean => {
  if (availability.skip) console.warn(`Browser tests skipped: ${availability.missing}.`);
  return availability.skip;
};

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export const launchBrowser = async (viewport = { width: 1600, height: 1000 }): Promise<Browser> => {
  const { executable, missing } = browserAvailability();
  if (!executable) throw new Error(`Cannot launch a browser: ${missing}`);
  const profile = await mkdtemp(join(tmpdir(), 'iot-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: executable,
    headless: true,
    args: FLAGS,
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
};
