#!/usr/bin/env node
// `npm run demo` runs this file: the demo itself is scripts/demo.ts, compiled by `npm run build`.
import '../dist/scripts/demo.js';
