// An account's id: the user id and the homeserver's base URL. This module is
// the only one that builds or reads it.
const SEPARATOR = '|';

export function accountIdFor(userId: string, homeserverUrl: string): string {
  return `${userId}${SEPARATOR}${homeserverUrl.replace(/\/+$/, '')}`;
}

/** The user id and homeserver URL an id was built from. */
export function accountIdParts(id: string): { userId: string; homeserverUrl: string } {
  const at = id.indexOf(SEPARATOR);
  return at < 0 ? { userId: id, homeserverUrl: '' } : { userId: id.slice(0, at), homeserverUrl: id.slice(at + 1) };
}
