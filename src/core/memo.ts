// Memos. memoByKey and memoByPair, bounded, for pure functions of strings: the
// namespace checks compare every pair of exclusive namespaces again on each
// change to any registration file, and the answers do not change while the
// regexes stay the same. sharedPerKey for one batch of requests (Ping All,
// Refresh Accounts): one request per homeserver, not one per item on it.

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
 * Remembers answers of `compute` by two strings, looked up without building a
 * key from them (asked for every pair of n files, a joined key cost more than
 * the answers it found). Forgets everything once it holds `max`.
 */
export function memoByPair<T>(max: number, compute: (a: string, b: string) => T): (a: string, b: string) => T {
  const known = new Map<string, Map<string, T>>();
  let size = 0;
  return (a, b) => {
    let withA = known.get(a);
    if (withA?.has(b)) return withA.get(b) as T;
    const value = compute(a, b);
    if (size >= max) {
      known.clear();
      size = 0;
      withA = undefined;
    }
    if (!withA) known.set(a, (withA = new Map()));
    withA.set(b, value);
    size++;
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
