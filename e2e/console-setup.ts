// What the console's browser tests share: where screenshots go, and why the suite is skipped here.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hasKubectl, REPO_ROOT } from './harness.ts';
import { browserMissing } from './browser.ts';

export const SHOTS = process.env.CONSOLE_SCREENSHOTS || join(REPO_ROOT, 'dist', 'screenshots');

/** Why the console's browser tests cannot run on this machine, or undefined when they can. */
export async function consoleTestsMissing(): Promise<string | undefined> {
  if (!hasKubectl) return 'kubectl not found';
  if (!existsSync(join(REPO_ROOT, 'dist', 'console', 'index.html'))) return 'the console is not built (npm run build:console)';
  return browserMissing();
}
