import * as vscode from 'vscode';
import { HttpClient } from '../core/http';
import type { RotationPolicy } from '../core/rotation';
import type { Log } from './log';

const SECTION = 'matrixDevtools';

export function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

export function rotationPolicy(): RotationPolicy {
  const c = config();
  return {
    lifetimeFraction: c.get<number>('rotation.lifetimeFraction', 2 / 3),
    minMarginMs: c.get<number>('rotation.minMarginSeconds', 30) * 1000,
  };
}

/** An HttpClient built from the current settings, logging into `log`. */
export function createHttpClient(log: Log): HttpClient {
  const c = config();
  return new HttpClient({
    timeoutMs: c.get<number>('requestTimeoutSeconds', 30) * 1000,
    allowInsecureHttp: c.get<boolean>('allowInsecureHttp', false),
    userAgent: `matrix-devtools-vscode (${vscode.env.appName})`,
    log: (e) => log.request(e),
  });
}
