// A bounded memo for pure functions of strings: the namespace checks compare
// every pair of exclusive namespaces again on each change to any registration
// file, and the answers do not change while the regexes stay the same.

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
