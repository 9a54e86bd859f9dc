#!/usr/bin/env -S node --import tsx
// The CLI entry. Warnings are filtered before the CLI's modules are linked: Node 22 prints its "SQLite is
// experimental" warning while linking fauxqs (which loads node:sqlite for its optional persistence).
import '../lib/local/quiet-warnings.js';

await import('./cli.js');
