#!/usr/bin/env node
// Runs the TypeScript entry in-process through tsx's loader, so signals
// (SIGINT/SIGTERM for the gateway's graceful shutdown) reach our handlers
// directly instead of a wrapper process.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
