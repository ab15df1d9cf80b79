// The shapes shared by the registration parser's parts and its callers.

export interface NamespaceEntry {
  exclusive: boolean;
  regex: string;
}

export type NamespaceKind = 'users' | 'aliases' | 'rooms';
export const NAMESPACE_KINDS: readonly NamespaceKind[] = ['users', 'aliases', 'rooms'];

export interface AppserviceRegistration {
  id: string;
  /** `null` for a receive-only appservice (the homeserver never calls it). */
  url: string | null;
  asToken: string;
  hsToken: string;
  senderLocalpart: string;
  namespaces: Record<NamespaceKind, NamespaceEntry[]>;
  rateLimited?: boolean;
  protocols?: string[];
  /** True when `receive_ephemeral` or the unstable `de.sorunome.msc2409.push_ephemeral` is true. */
  receiveEphemeral?: boolean;
  /** The whole file as plain data, unknown keys included (it holds the tokens: never log it). */
  raw: Record<string, unknown>;
}

/** 1-based, as editors and `file:line:column` output count. End is exclusive. */
export interface SourceRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface RegistrationProblem extends SourceRange {
  severity: 'error' | 'warning';
  /** One sentence: what is wrong and what to do. Never contains a token value. */
  message: string;
  /** Where in the registration, e.g. `url` or `namespaces.users[0].regex`. */
  key?: string;
  /** Stable id for filters and tests; see `RegistrationProblemCode`. */
  code: string;
}

/** Every `code` this parser emits. */
export type RegistrationProblemCode =
  | 'empty-file'
  | 'invalid-character'
  | 'yaml-syntax'
  | 'duplicate-key'
  | 'multiple-documents'
  | 'yaml-tag'
  | 'not-a-mapping'
  | 'missing-key'
  | 'wrong-type'
  | 'empty-value'
  | 'yaml11-boolean'
  | 'url-null'
  | 'url-invalid'
  | 'url-loopback'
  | 'regex-invalid'
  | 'tokens-equal'
  | 'id-unsafe'
  | 'sender-localpart-invalid'
  | 'unknown-namespace'
  | 'duplicate-id'
  | 'duplicate-as-token'
  | 'duplicate-hs-token'
  | 'namespace-overlap'
  | 'internal-error';

export interface ParsedRegistration {
  /** Present exactly when no problem is an error (warnings may remain). */
  registration?: AppserviceRegistration;
  problems: RegistrationProblem[];
  /**
   * The file's `id` and where it is written, whenever `id` is a string, even if
   * other errors make the file unusable: tree labels and `findConflicts` need it.
   */
  id?: SourceRange & { value: string };
}
