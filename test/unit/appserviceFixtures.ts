// Shared by the appservice tests: registration YAML and in-memory stand-ins
// for workspaceState, SecretStorage and the output channel.
import type { KeyValueStore, OutputSink, SecretStore } from '../../src/vscode/appservices/ports';

export interface RegistrationOptions {
  id: string;
  url?: string | null;
  asToken?: string;
  hsToken?: string;
  senderLocalpart?: string;
  userRegex?: string;
  aliasRegex?: string;
}

/** A valid registration unless the options make it otherwise; `url` is always line 2. */
export function registrationYaml(o: RegistrationOptions): string {
  const url = o.url === undefined ? 'http://bridge.example.net:9000' : o.url;
  return [
    `id: ${JSON.stringify(o.id)}`,
    `url: ${url === null ? 'null' : JSON.stringify(url)}`,
    `as_token: ${JSON.stringify(o.asToken ?? `as_secret_${o.id}_0123456789`)}`,
    `hs_token: ${JSON.stringify(o.hsToken ?? `hs_secret_${o.id}_0123456789`)}`,
    `sender_localpart: ${JSON.stringify(o.senderLocalpart ?? `${o.id}bot`)}`,
    'namespaces:',
    '  users:',
    '    - exclusive: true',
    `      regex: '${(o.userRegex ?? `@${o.id}_.*:example.org`).replace(/'/g, "''")}'`,
    '  aliases:',
    '    - exclusive: true',
    `      regex: '${(o.aliasRegex ?? `#${o.id}_.*:example.org`).replace(/'/g, "''")}'`,
    '  rooms: []',
    'rate_limited: false',
    '',
  ].join('\n');
}

export class MemoryStore implements KeyValueStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    // Like a Memento: what is stored is a copy, not the caller's object.
    this.values.set(key, value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
  }
}

export class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }
}

/** Keeps lines exactly as written (no redaction), so a leaked token would show. */
export class RecordingOutput implements OutputSink {
  readonly lines: Array<{ level: 'info' | 'warn' | 'error'; text: string }> = [];
  reveals = 0;
  info(text: string): void {
    this.lines.push({ level: 'info', text });
  }
  warn(text: string): void {
    this.lines.push({ level: 'warn', text });
  }
  error(text: string): void {
    this.lines.push({ level: 'error', text });
  }
  reveal(): void {
    this.reveals++;
  }
  get text(): string {
    return this.lines.map((l) => l.text).join('\n');
  }
  clear(): void {
    this.lines.length = 0;
    this.reveals = 0;
  }
}
