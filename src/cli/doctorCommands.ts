// `doctor` and `match`: the appservice doctor and the namespace matcher for
// scripts and CI, over the same core as the extension's commands.
import { discoveryPerBatch } from '../core/homeserver';
import { claimsOf, formatCheckLine, formatDoctorSummary, hasFailure, namespaceKindOf, runDoctor } from '../core/doctor';
import { findConflicts, ParsedRegistration } from '../core/registration';
import { redact } from '../core/redact';
import { shown } from '../core/shown';
import { loadRegistration } from './appserviceCommands';
import { UsageError, type CliContext } from './context';

interface LoadedFile {
  file: string;
  parsed: ParsedRegistration;
}

async function loadAll(files: readonly string[]): Promise<LoadedFile[]> {
  if (files.length === 0) throw new UsageError('--registration <file> is required (repeat it to check several)');
  return Promise.all(files.map(async (file) => ({ file, parsed: (await loadRegistration(file)).parsed })));
}

const usable = (files: readonly LoadedFile[]) =>
  files.flatMap(({ file, parsed }) => (parsed.registration ? [{ source: file, registration: parsed.registration }] : []));

export async function doctor(ctx: CliContext): Promise<number> {
  const homeserver = ctx.options.homeserver;
  if (typeof homeserver !== 'string' || homeserver === '') throw new UsageError('--homeserver is required');
  const files = await loadAll(ctx.lists.registration ?? []);
  const conflicts = findConflicts(files);
  const all = usable(files);
  const reports = [];
  const discover = discoveryPerBatch(ctx.http);
  for (const { file, parsed } of files) {
    reports.push(
      await runDoctor(ctx.http, {
        source: file,
        parsed,
        conflicts: conflicts.get(file),
        others: all.filter((o) => o.source !== file),
        homeserver,
        pingTimeoutMs: ctx.options['timeout-ms'] ? Number(ctx.options['timeout-ms']) : undefined,
        discover,
      }),
    );
  }
  if (ctx.json) {
    const shape = reports.map((r) => ({
      appservice: r.appservice,
      homeserver: r.homeserver,
      checks: r.checks.map((c) => ({ id: c.id, status: c.status, message: c.message, ...(c.next ? { next: c.next } : {}) })),
    }));
    ctx.out(redact(JSON.stringify(shape.length === 1 ? shape[0] : shape)));
  } else {
    reports.forEach((r, i) => {
      if (files.length > 1) ctx.out(`${i ? '\n' : ''}${files[i].file} (${r.appservice}) via ${r.homeserver}`);
      for (const check of r.checks) ctx.out(redact(formatCheckLine(check)));
      ctx.out(formatDoctorSummary(r));
    });
  }
  return reports.some(hasFailure) ? 1 : 0;
}

export async function match(ctx: CliContext): Promise<number> {
  const id = ctx.positionals[0];
  if (!id) throw new UsageError('match needs an id: a user id (@user:server), room alias (#alias:server) or room id (!room:server)');
  if (!namespaceKindOf(id)) throw new UsageError(`"${shown(id)}" is not a user id, room alias or room id: it must start with @, # or !`);
  const files = await loadAll(ctx.lists.registration ?? []);
  for (const { file, parsed } of files) {
    if (!parsed.registration) ctx.err(`${file}: skipped, not a usable registration (run check-registration ${file})`);
  }
  const claims = claimsOf(id, usable(files));
  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        id,
        claims: claims.map((c) => ({
          file: c.source,
          appservice: c.appserviceId,
          kind: c.kind,
          index: c.index,
          regex: c.regex,
          exclusive: c.exclusive,
          ...(c.isSender ? { sender: true } : {}),
        })),
      }),
    );
  } else if (claims.length === 0) {
    ctx.out(`No registration claims ${id}.`);
  } else {
    for (const c of claims) {
      const what = c.isSender ? 'its sender' : `${c.kind}[${c.index}] ${c.exclusive ? 'exclusive' : 'shared'} ${c.regex}`;
      ctx.out(`${c.source}: "${c.appserviceId}" claims ${id} (${what})`);
    }
  }
  return claims.length > 0 ? 0 : 1;
}
