// Matrix scopes (spec v1.15 "Scope"; MSC2967 for the unstable forms) and the
// device id the client picks for the device scope.
import { randomInt } from 'node:crypto';

const STABLE = { api: 'urn:matrix:client:api:*', device: 'urn:matrix:client:device:' };
const UNSTABLE = { api: 'urn:matrix:org.matrix.msc2967.client:api:*', device: 'urn:matrix:org.matrix.msc2967.client:device:' };
const DEVICE_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * A device id MAS accepts: `[A-Za-z0-9-]`, at least 10 characters
 * (shared/MATRIX-NOTES.md). Upper case and digits, like Synapse's own ids.
 */
export function generateDeviceId(length = 12): string {
  let id = '';
  for (let i = 0; i < length; i++) id += DEVICE_ID_ALPHABET[randomInt(DEVICE_ID_ALPHABET.length)];
  return id;
}

/**
 * The scope to ask for: API access plus this device. The unstable forms only
 * when the server lists them and not the stable ones (deployments older than
 * the spec).
 */
export function matrixScope(deviceId: string, scopesSupported?: string[]): string {
  const forms = scopesSupported && !scopesSupported.includes(STABLE.api) && scopesSupported.includes(UNSTABLE.api) ? UNSTABLE : STABLE;
  return `${forms.api} ${forms.device}${deviceId}`;
}

/** The device id in a granted scope, stable or unstable form. */
export function deviceIdFromScope(scope: string): string | undefined {
  for (const s of scope.split(' ')) {
    for (const forms of [STABLE, UNSTABLE]) if (s.startsWith(forms.device)) return s.slice(forms.device.length);
  }
  return undefined;
}

export function grantsApiAccess(scope: string): boolean {
  const granted = scope.split(' ');
  return granted.includes(STABLE.api) || granted.includes(UNSTABLE.api);
}
