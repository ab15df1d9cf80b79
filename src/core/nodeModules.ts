// Node built-ins that cost a process start a few milliseconds each on these
// machines (crypto ≈ 4 ms, https ≈ 4 ms, zlib ≈ 2 ms, os ≈ 1.5 ms), required
// on first use instead of at load: a CLI command that sends one request pays
// for nothing it does not use (bench/run.js, the cli rows), and activation
// loads none of them. The bundle keeps these as plain `require`s of built-ins.
import type * as Crypto from 'node:crypto';
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type * as Os from 'node:os';
import type * as Zlib from 'node:zlib';

/* eslint-disable @typescript-eslint/no-require-imports -- a lazy load is the point */
export const nodeCrypto = (): typeof Crypto => require('node:crypto') as typeof Crypto;
export const nodeHttp = (): typeof Http => require('node:http') as typeof Http;
export const nodeHttps = (): typeof Https => require('node:https') as typeof Https;
export const nodeOs = (): typeof Os => require('node:os') as typeof Os;
export const nodeZlib = (): typeof Zlib => require('node:zlib') as typeof Zlib;
/* eslint-enable @typescript-eslint/no-require-imports */
