// A registration object written as YAML the way bridges generate theirs
// (by hand, not yaml.stringify), for the dev homeserver's demo files and the
// host tests' registration files.
import type { RegistrationObject } from './homeserver';

/** `comments` become `# …` lines at the top. */
export function registrationYaml(r: RegistrationObject, comments: string[] = []): string {
  const ns = r.namespaces ?? {};
  const list = (entries: { exclusive?: boolean; regex: string }[] | undefined) =>
    !entries || entries.length === 0
      ? ' []\n'
      : `\n${entries.map((e) => `    - exclusive: ${e.exclusive ?? false}\n      regex: '${e.regex.replace(/'/g, "''")}'\n`).join('')}`;
  return [
    ...comments.map((c) => `# ${c}`),
    `id: ${r.id}`,
    `url: ${r.url === null ? 'null' : `"${r.url}"`}`,
    `as_token: "${r.as_token}"`,
    `hs_token: "${r.hs_token}"`,
    `sender_localpart: ${r.sender_localpart}`,
    `rate_limited: ${r.rate_limited ?? false}`,
    'namespaces:',
    `  users:${list(ns.users)}  aliases:${list(ns.aliases)}  rooms:${list(ns.rooms)}`,
  ].join('\n');
}
