// Shared by the appservice tests: registration YAML and a recording output
// channel (SecretStorage and Memento stand-ins: ../support/memoryStorage).
import type { OutputSink } from '../../src/vscode/appservices/ports';
import { registrationYaml as writeRegistration } from '../support/registrationYaml';

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
  return writeRegistration({
    id: o.id,
    url: o.url === undefined ? 'http://bridge.example.net:9000' : o.url,
    as_token: o.asToken ?? `as_secret_${o.id}_0123456789`,
    hs_token: o.hsToken ?? `hs_secret_${o.id}_0123456789`,
    sender_localpart: o.senderLocalpart ?? `${o.id}bot`,
    namespaces: {
      users: [{ exclusive: true, regex: o.userRegex ?? `@${o.id}_.*:example.org` }],
      aliases: [{ exclusive: true, regex: o.aliasRegex ?? `#${o.id}_.*:example.org` }],
      rooms: [],
    },
    rate_limited: false,
  });
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
