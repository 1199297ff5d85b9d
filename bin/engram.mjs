#!/usr/bin/env node
// Entry point for the `engram` bin: load the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';

// React (the dashboard) in production mode: the development build is several times slower
process.env.NODE_ENV ??= 'production';
register();
const { run } = await import('../cli/main.ts');
await run(process.argv.slice(2));
