/**
 * `tsx test/support/browser-path.ts`: prints the browser the browser tests would use and exits
 * 0, or says why there is none and exits 1 (.ci/run installs one then).
 */
import { browserAvailability } from './browser.ts';

const { executable, missing } = browserAvailability();
if (executable) console.log(executable);
else {
  console.error(missing);
  process.exitCode = 1;
}
