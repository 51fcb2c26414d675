/** The GitHub REST stand-in of the local stack: see README.md. */
export { startLocalGitHub, type LocalGitHub, type LocalGitHubOptions } from './server.ts';
export type { AppInstallation, Grant, Permissions } from './auth.ts';
export { CONCLUSIONS, DEFAULT_RUN_TIMINGS, type Conclusion, type RunTimings } from './runs.ts';
