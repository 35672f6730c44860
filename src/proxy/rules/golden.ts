// Golden files for the rule builders: `UPDATE_GOLDEN=1 node --import tsx --test …` rewrites them;
// otherwise the rendered tables must equal the file (review a diff like any code change).

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, 'testdata');

export function assertGolden(name: string, actual: string): void {
  const file = join(dir, `${name}.rules`);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    writeFileSync(file, actual);
    if (!process.env.UPDATE_GOLDEN) assert.fail(`wrote new golden file ${file}; review it and run again`);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `golden ${name}.rules differs (UPDATE_GOLDEN=1 to rewrite after review)`);
}
