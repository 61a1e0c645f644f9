#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx mrcd` works without a build step.
require('tsx/cjs');
const { runCli, exitWhenFlushed } = require('../client/cli.ts');
runCli(process.argv.slice(2)).then(exitWhenFlushed);
