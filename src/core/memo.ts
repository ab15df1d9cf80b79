// Memos. memoByKey, bounded, for pure functions of strings: the namespace
// checks compare every pair of exclusive namespaces again on each change to
// any registration file, and the answers do not change while the regexes stay
// the same. sharedPerKey for one batch of requests (Ping All, Refresh Accounts):
// one request per homeserver, not one per item on it.

/** Remembers up to `max` answers of `compute`, forgetting the oldest first. */
export function memoByKey<T>(max: number, compute: (key: string) => T): (key: string) => T {
  const known = new Map<string, T>();
  return (key) => {
    if (known.has(key)) return known.get(key) as T;
    const value = compute(key);
    if (known.size >= max) known.delete(known.keys().next().value as string);
    known.set(key, value);
    return value;
  };
}

/**
 * One `compute` per key for the life of the returned function: concurrent
 * callers share the promise in flight (with the first caller's other
 * arguments); a rejected one is forgotten, so the next call tries again.
 */
export function sharedPerKey<A extends unknown[], T>(
  compute: (key: string, ...rest: A) => Promise<T>,
): (key: string, ...rest: A) => Promise<T> {
  const known = new Map<string, Promise<T>>();
  return (key, ...rest) => {
    let found = known.get(key);
    if (!found) {
      found = compute(key, ...rest);
      known.set(key, found);
      found.catch(() => known.delete(key));
    }
    return found;
  };
}
