#!/usr/bin/env node
// The `mizzen` command. The sources are TypeScript run through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// Exit explicitly: after a clean shutdown nothing else should keep the process alive.
process.exit(await main(process.argv.slice(2)));
