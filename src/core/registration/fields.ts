// The top-level registration keys: what each must hold, following what the
// spec requires and what Synapse refuses to load (synapse/config/appservice.py).
// Messages are built only from fixed text, key paths and type names, never
// from values, so no token can reach them.
import { isLoopbackHost } from '../http';
import { t } from '../l10n';
import { describeType, FieldChecker, has, Record_ } from './checker';
import { checkNamespaces } from './namespaces';
import { keyOf as keyName, RegistrationSource } from './source';
import { AppserviceRegistration, RegistrationProblem, SourceRange } from './types';

export interface CheckedFields {
  problems: RegistrationProblem[];
  /** Set when every required key holds the right type (other errors may remain). */
  registration?: AppserviceRegistration;
  id?: SourceRange & { value: string };
  asToken?: SourceRange & { value: string };
  hsToken?: SourceRange & { value: string };
}

function missingMessage(key: 'id' | 'url' | 'as_token' | 'hs_token' | 'sender_localpart'): string {
  switch (key) {
    case 'id':
      return t('id is missing: add a unique id for this appservice (the homeserver and the ping use it).');
    case 'url':
      return t('url is missing: add the address where the homeserver reaches the appservice, or url: null for a receive-only appservice.');
    case 'as_token':
      return t('as_token is missing: add the secret the appservice uses to call the homeserver.');
    case 'hs_token':
      return t('hs_token is missing: add the secret the homeserver uses to call the appservice.');
    case 'sender_localpart':
      return t("sender_localpart is missing: add the localpart of the appservice's bot user.");
  }
}

function emptyMessage(key: 'id' | 'as_token' | 'hs_token' | 'sender_localpart'): string {
  switch (key) {
    case 'id':
      return t('id is empty: give the appservice a unique id.');
    case 'as_token':
      return t('as_token is empty: set it to a long random secret (for example the output of openssl rand -hex 32).');
    case 'hs_token':
      return t('hs_token is empty: set it to a long random secret (for example the output of openssl rand -hex 32).');
    case 'sender_localpart':
      return t("sender_localpart is empty: set it to the localpart of the appservice's bot user.");
  }
}

/** A required non-empty string such as `id` or `as_token`. */
function requiredString(c: FieldChecker, map: Record_, key: 'id' | 'as_token' | 'hs_token' | 'sender_localpart'): string | undefined {
  const path = [key];
  if (!has(map, key)) {
    c.missing(missingMessage(key), path);
    return undefined;
  }
  const value = map[key];
  if (value === null || value === '') {
    c.error('empty-value', emptyMessage(key), path);
    return undefined;
  }
  if (typeof value !== 'string') {
    c.error('wrong-type', t('{0} must be a string, not {1}: put the value in quotes.', key, describeType(value)), path);
    return undefined;
  }
  return value;
}

function checkUrl(c: FieldChecker, map: Record_): string | null | undefined {
  if (!has(map, 'url')) {
    c.missing(missingMessage('url'), ['url']);
    return undefined;
  }
  const url = map.url;
  if (url === null) {
    c.warn('url-null', t('receive-only appservice: the homeserver cannot push events or pings to it'), ['url']);
    return null;
  }
  if (typeof url !== 'string') {
    c.error('wrong-type', t('url must be a string or null, not {0}.', describeType(url)), ['url']);
    return undefined;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    c.error(
      'url-invalid',
      t('url must be an http:// or https:// address the homeserver can reach, such as http://bridge.internal:29317.'),
      ['url'],
    );
    return url;
  }
  if (isLoopbackHost(parsed.hostname)) {
    c.warn(
      'url-loopback',
      t(
        'url points at the loopback interface, which only a homeserver on the same host and outside any container can reach: use an address the homeserver can reach if it runs elsewhere.',
      ),
      ['url'],
    );
  }
  return url;
}

function checkSenderLocalpart(c: FieldChecker, localpart: string): void {
  const path = ['sender_localpart'];
  if (localpart.startsWith('@') || localpart.includes(':')) {
    c.error(
      'sender-localpart-invalid',
      t('sender_localpart must be only the localpart (bot), not a full user ID (@bot:example.org).'),
      path,
    );
  } else if (/[^A-Za-z0-9._~/-]/.test(localpart)) {
    // Synapse refuses a localpart that urllib.parse.quote would change. Upper
    // case passes: mautrix bridges generate mixed-case random localparts.
    c.error(
      'sender-localpart-invalid',
      t('sender_localpart has characters that need URL encoding, which Synapse refuses: use only a-z, 0-9, ., _, - and /.'),
      path,
    );
  }
}

/** Optional keys: Synapse ignores a wrong rate_limited or ephemeral flag but refuses wrong protocols or MSC flags. */
function checkOptional(c: FieldChecker, map: Record_): Pick<AppserviceRegistration, 'rateLimited' | 'protocols' | 'receiveEphemeral'> {
  const optional: Pick<AppserviceRegistration, 'rateLimited' | 'protocols' | 'receiveEphemeral'> = {};
  if (has(map, 'rate_limited')) {
    const rateLimited = c.boolean(map.rate_limited, ['rate_limited']);
    if (rateLimited === undefined) {
      c.warn(
        'wrong-type',
        t(
          "rate_limited must be true or false, not {0}: homeservers ignore it and rate-limit the appservice's users.",
          describeType(map.rate_limited),
        ),
        ['rate_limited'],
      );
    } else {
      optional.rateLimited = rateLimited;
    }
  }
  for (const key of ['receive_ephemeral', 'de.sorunome.msc2409.push_ephemeral']) {
    if (!has(map, key)) continue;
    const flag = c.boolean(map[key], [key]);
    if (flag === undefined) {
      c.warn('wrong-type', t('{0} must be true or false, not {1}: homeservers may ignore it.', key, describeType(map[key])), [key]);
    } else {
      optional.receiveEphemeral = (optional.receiveEphemeral ?? false) || flag;
    }
  }
  for (const key of ['org.matrix.msc3202', 'io.element.msc4190']) {
    if (has(map, key) && c.boolean(map[key], [key]) === undefined) {
      c.error(
        'wrong-type',
        t('{0} must be true or false, not {1}: Synapse refuses to load the registration otherwise.', key, describeType(map[key])),
        [key],
      );
    }
  }
  const protocols = map.protocols;
  // Synapse checks protocols only when it is truthy, so null, false and "" pass.
  if (has(map, 'protocols') && protocols !== null && protocols !== false && protocols !== '' && protocols !== 0) {
    if (!Array.isArray(protocols)) {
      c.error('wrong-type', t('protocols must be a list of protocol names, not {0}.', describeType(protocols)), ['protocols']);
    } else {
      const bad = protocols.findIndex((p) => typeof p !== 'string');
      if (bad !== -1) {
        c.error('wrong-type', t('{0} must be a string, not {1}.', keyName(['protocols', bad]), describeType(protocols[bad])), [
          'protocols',
          bad,
        ]);
      } else optional.protocols = protocols as string[];
    }
  }
  return optional;
}

/** Checks a document that is already known to be a mapping. */
export function checkFields(source: RegistrationSource, map: Record_): CheckedFields {
  const c = new FieldChecker(source);
  const located = (key: string): (SourceRange & { value: string }) | undefined =>
    typeof map[key] === 'string' && has(map, key) ? { value: map[key] as string, ...source.locate([key]) } : undefined;

  const id = requiredString(c, map, 'id');
  if (id !== undefined && /[/?#%\s\p{Cc}]/u.test(id)) {
    c.warn(
      'id-unsafe',
      t('id contains characters that break the ping URL path (/, ?, #, % or whitespace): use letters, digits, dots, - and _.'),
      ['id'],
    );
  }
  const url = checkUrl(c, map);
  const asToken = requiredString(c, map, 'as_token');
  const hsToken = requiredString(c, map, 'hs_token');
  if (asToken !== undefined && asToken === hsToken) {
    c.error('tokens-equal', t('as_token and hs_token are the same secret: generate a separate random secret for each.'), ['hs_token']);
  }
  const senderLocalpart = requiredString(c, map, 'sender_localpart');
  if (senderLocalpart !== undefined) checkSenderLocalpart(c, senderLocalpart);
  const namespaces = checkNamespaces(c, map);
  const optional = checkOptional(c, map);

  const result: CheckedFields = { problems: c.problems, id: located('id'), asToken: located('as_token'), hsToken: located('hs_token') };
  if (
    id !== undefined &&
    url !== undefined &&
    asToken !== undefined &&
    hsToken !== undefined &&
    senderLocalpart !== undefined &&
    namespaces
  ) {
    result.registration = { id, url, asToken, hsToken, senderLocalpart, namespaces, ...optional, raw: map };
  }
  return result;
}
