#!/usr/bin/env node
// `npm run serve`: the whole app in a browser, on 127.0.0.1 (PORT overrides the port).
import { startUiServer } from './ui-server.js';

const server = await startUiServer({ port: Number(process.env.PORT ?? 5199) });
console.log(`FAS Spiking LLM is running at ${server.url}  (Ctrl+C to stop)`);
