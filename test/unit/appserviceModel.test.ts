// The appservice model without VS Code and without a network: where
// appservices come from, what reaches the Problems panel, what the tree and
// the Ping All notification say, and how Ping All bounds its concurrency.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { AppserviceCatalog } from '../../src/vscode/appservices/catalog';
import { readingAhead, runWithConcurrency } from '../../src/core/concurrency';
import { loadRegistrationForPing } from '../../src/core/registrationFile';
import { toDiagnosticData } from '../../src/vscode/appservices/diagnostics';
import { describeLastPing, formatPingAllSummary } from '../../src/vscode/appservices/format';
import { effectiveHomeserver, homeserverChoices, HomeserverMemory } from '../../src/vscode/appservices/homeservers';
import { appserviceNode, detailNodes } from '../../src/vscode/appservices/treeNodes';
import { InMemoryMemento } from '../support/memoryStorage';
import { registrationYaml } from './appserviceFixtures';

const dir = path.resolve('/workspace');
const file = (name: string) => path.join(dir, name);

describe('appservice catalog', () => {
  it("lists one item per registration file, labelled with the file's id", () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.replaceFiles([
      [file('telegram-registration.yaml'), registrationYaml({ id: 'telegram' })],
      [file('bot/registration.yml'), registrationYaml({ id: 'bot', asToken: 'as_b', hsToken: 'hs_b' })],
    ]);
    const items = catalog.items();
    assert.deepEqual(
      items.map((i) => [i.id, i.source, i.file]),
      [
        ['bot', 'file', file('bot/registration.yml')],
        ['telegram', 'file', file('telegram-registration.yaml')],
      ],
    );
    assert.equal(items[1].registration?.url, 'http://bridge.example.net:9000');
  });

  it("hands a ping the file's parse only while the file says the same", async () => {
    const catalog = new AppserviceCatalog(dir);
    const text = registrationYaml({ id: 'telegram' });
    catalog.replaceFiles([
      [file('telegram-registration.yaml'), text],
      [file('gone.yaml'), { unreadable: 'EACCES' }],
    ]);
    const listed = catalog.get(`file:${file('telegram-registration.yaml')}`)?.registration;
    assert.ok(listed);
    assert.equal(catalog.parsedIfSame(file('telegram-registration.yaml'), text)?.registration, listed);
    assert.equal(catalog.parsedIfSame(path.relative(process.cwd(), file('telegram-registration.yaml')), text)?.registration, listed);
    assert.equal(catalog.parsedIfSame(file('telegram-registration.yaml'), `${text}# edited\n`), undefined);
    assert.equal(catalog.parsedIfSame(file('gone.yaml'), text), undefined);
    assert.equal(catalog.parsedIfSame(file('never-listed.yaml'), text), undefined);

    // What a ping loads: the catalog's parse for the same text, a parse of its own for new text.
    const known = (f: string, t: string) => catalog.parsedIfSame(f, t);
    const same = await loadRegistrationForPing(async () => text, file('telegram-registration.yaml'), known);
    assert.ok('registration' in same);
    assert.equal(same.registration, listed);
    const edited = registrationYaml({ id: 'telegram', asToken: 'as_edited_token', hsToken: 'hs_edited_token' });
    const fresh = await loadRegistrationForPing(async () => edited, file('telegram-registration.yaml'), known);
    assert.ok('registration' in fresh);
    assert.notEqual(fresh.registration, listed);
    assert.equal(fresh.registration.asToken, 'as_edited_token');
  });

  it('merges a settings entry into the file with the same id and keeps its homeserver', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.replaceFiles([[file('reg.yaml'), registrationYaml({ id: 'telegram' })]]);
    catalog.setEntries([
      { id: 'telegram', homeserver: 'example.org' },
      { id: 'remote-bridge', homeserver: 'https://matrix.example.com' },
    ]);
    const items = catalog.items();
    assert.equal(items.length, 2);
    const merged = items.find((i) => i.id === 'telegram');
    assert.equal(merged?.source, 'file');
    assert.equal(merged?.inSettings, true);
    assert.equal(merged?.configuredHomeserver, 'example.org');
    const remote = items.find((i) => i.id === 'remote-bridge');
    assert.equal(remote?.source, 'settings');
    assert.equal(remote?.key, 'settings:remote-bridge');
    assert.equal(remote?.file, undefined);
  });

  it('resolves a relative registrationFile against the workspace folder and reports a missing one', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.setEntries([{ id: 'x', registrationFile: 'conf/x.yaml' }]);
    assert.deepEqual(catalog.settingsFiles(), [file('conf/x.yaml')]);
    const [item] = catalog.items();
    assert.equal(item.file, file('conf/x.yaml'));
    assert.match(item.problems[0].message, /not found/);
    catalog.setFile(file('conf/x.yaml'), registrationYaml({ id: 'x' }));
    assert.deepEqual(catalog.items()[0].problems, []);
  });

  it('every change shows in items() and get(), also a new workspace folder for relative paths', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.setEntries([{ id: 'x', registrationFile: 'conf/x.yaml' }]);
    assert.equal(catalog.get(`file:${file('conf/x.yaml')}`)?.id, 'x');
    const elsewhere = path.join(dir, 'other-folder');
    catalog.setBaseDir(elsewhere);
    assert.equal(catalog.items()[0].file, path.join(elsewhere, 'conf/x.yaml'));
    assert.equal(catalog.get(`file:${file('conf/x.yaml')}`), undefined);
    catalog.setFile(path.join(elsewhere, 'conf/x.yaml'), registrationYaml({ id: 'x' }));
    assert.deepEqual(catalog.get(`file:${path.join(elsewhere, 'conf/x.yaml')}`)?.problems, []);
    catalog.removeFile(path.join(elsewhere, 'conf/x.yaml'));
    assert.match(catalog.items()[0].problems[0].message, /not found/);
    catalog.setEntries([]);
    assert.deepEqual(catalog.items(), []);
  });

  it('keeps a broken file in the list, named by its id when it has one', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.replaceFiles([[file('broken-registration.yaml'), 'id: whatsapp\nurl: [unclosed\n']]);
    const [item] = catalog.items();
    assert.ok(item.problems.some((p) => p.severity === 'error'));
    assert.equal(item.registration, undefined);
    assert.ok(['whatsapp', 'broken-registration.yaml'].includes(item.id));
  });

  it('fires onDidChange when files or settings change', () => {
    const catalog = new AppserviceCatalog(dir);
    let fired = 0;
    catalog.onDidChange(() => fired++);
    catalog.setFile(file('a.yaml'), registrationYaml({ id: 'a' }));
    catalog.setEntries([]);
    catalog.removeFile(file('a.yaml'));
    catalog.removeFile(file('never-there.yaml'));
    assert.equal(fired, 3);
  });
});

describe('registration problems → Problems panel', () => {
  const diagnosticsOf = (text: string, others: Array<[string, string]> = []) => {
    const catalog = new AppserviceCatalog(dir);
    catalog.replaceFiles([[file('reg.yaml'), text], ...others]);
    return toDiagnosticData(catalog.problemsForFile(file('reg.yaml')));
  };

  it('puts a YAML syntax error at its line (0-based for VS Code)', () => {
    const d = diagnosticsOf('id: a\nurl: "http://x\nas_token: b\n');
    const syntax = d.find((x) => x.severity === 'error');
    assert.ok(syntax, 'a syntax error must be reported');
    assert.equal(syntax.source, 'matrix-registration');
    assert.ok(syntax.range.startLine >= 1, `expected the error on line 2 or later, got ${JSON.stringify(syntax.range)}`);
  });

  it('reports each missing key', () => {
    const d = diagnosticsOf('id: only-an-id\n');
    const messages = d.map((x) => x.message).join('\n');
    for (const key of ['url', 'as_token', 'hs_token', 'sender_localpart', 'namespaces']) assert.match(messages, new RegExp(key));
    assert.ok(d.filter((x) => x.code === 'missing-key').length >= 5, JSON.stringify(d.map((x) => x.code)));
  });

  it('warns about url: null on the url line', () => {
    const d = diagnosticsOf(registrationYaml({ id: 'a', url: null }));
    const url = d.find((x) => x.code === 'url-null');
    assert.ok(url);
    assert.equal(url.severity, 'warning');
    assert.equal(url.range.startLine, 1, 'url is the second line of the fixture');
  });

  it('points at a regex that does not compile', () => {
    const text = registrationYaml({ id: 'a', userRegex: '@bridge_(.*:example.org' });
    const d = diagnosticsOf(text);
    const bad = d.find((x) => x.code === 'regex-invalid');
    assert.ok(bad, JSON.stringify(d));
    const line = text.split('\n').findIndex((l) => l.includes('@bridge_('));
    assert.equal(bad.range.startLine, line);
  });

  it('accepts the \\# escape real bridges write (no u flag)', () => {
    const d = diagnosticsOf(registrationYaml({ id: 'a', aliasRegex: '\\#telegram_.*:example.org' }));
    assert.equal(
      d.find((x) => x.code === 'regex-invalid'),
      undefined,
    );
  });

  it('flags as_token equal to hs_token without printing the token', () => {
    const d = diagnosticsOf(registrationYaml({ id: 'a', asToken: 'same-secret-123456', hsToken: 'same-secret-123456' }));
    const same = d.find((x) => x.code === 'tokens-equal');
    assert.ok(same);
    assert.ok(!d.some((x) => x.message.includes('same-secret-123456')));
  });

  it('marks duplicate ids in both files', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.replaceFiles([
      [file('one.yaml'), registrationYaml({ id: 'dup', asToken: 'as_1', hsToken: 'hs_1' })],
      [file('two.yaml'), registrationYaml({ id: 'dup', asToken: 'as_2', hsToken: 'hs_2' })],
      [file('three.yaml'), registrationYaml({ id: 'unique', asToken: 'as_3', hsToken: 'hs_3' })],
    ]);
    for (const f of ['one.yaml', 'two.yaml']) {
      const d = toDiagnosticData(catalog.problemsForFile(file(f)));
      const dup = d.find((x) => x.code === 'duplicate-id');
      assert.ok(dup, `${f} should have a duplicate-id diagnostic`);
      assert.equal(dup.range.startLine, 0, 'id is on the first line');
    }
    assert.deepEqual(catalog.problemsForFile(file('three.yaml')), []);
    catalog.removeFile(file('two.yaml'));
    assert.deepEqual(catalog.problemsForFile(file('one.yaml')), [], 'the duplicate disappears with the other file');
  });

  it('clamps positions it cannot trust', () => {
    const [d] = toDiagnosticData([{ severity: 'error', message: 'm', code: 'c', line: 0, column: Number.NaN, endLine: -3, endColumn: 2 }]);
    assert.deepEqual(d.range, { startLine: 0, startCharacter: 0, endLine: 0, endCharacter: 1 });
    const [e] = toDiagnosticData([{ severity: 'warning', message: 'm', code: 'c', line: 4, column: 7, endLine: 4, endColumn: 3 }]);
    assert.deepEqual(e.range, { startLine: 3, startCharacter: 6, endLine: 3, endCharacter: 6 });
  });

  it('never throws on random text and always gives an unusable file a diagnostic', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.object().map((o) => registrationLike(o)),
        ),
        (text) => {
          const catalog = new AppserviceCatalog(dir);
          catalog.replaceFiles([[file('fuzz.yaml'), text]]);
          const [item] = catalog.items();
          const diagnostics = toDiagnosticData(catalog.problemsForFile(file('fuzz.yaml')));
          for (const d of diagnostics) {
            assert.ok(d.range.startLine >= 0 && d.range.startCharacter >= 0);
            assert.ok(
              d.range.endLine > d.range.startLine ||
                (d.range.endLine === d.range.startLine && d.range.endCharacter >= d.range.startCharacter),
            );
            assert.ok(d.message.trim().length > 0);
          }
          if (!item.registration) {
            assert.ok(
              diagnostics.some((d) => d.severity === 'error'),
              `no error diagnostic for unusable ${JSON.stringify(text)}`,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

function registrationLike(extra: Record<string, unknown>): string {
  const lines = Object.entries(extra).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return ['id: fuzz', ...lines].join('\n');
}

describe('homeserver per appservice', () => {
  const item = (over: Partial<{ configuredHomeserver: string }> = {}) => ({
    key: 'file:/w/a.yaml',
    id: 'a',
    source: 'file' as const,
    problems: [],
    inSettings: false,
    ...over,
  });

  it('prefers the settings entry, then the remembered choice', async () => {
    const memory = new HomeserverMemory(new InMemoryMemento());
    assert.equal(effectiveHomeserver(item(), memory), undefined);
    await memory.remember('file:/w/a.yaml', 'http://127.0.0.1:8008');
    assert.deepEqual(effectiveHomeserver(item(), memory), { input: 'http://127.0.0.1:8008', origin: 'remembered' });
    assert.deepEqual(effectiveHomeserver(item({ configuredHomeserver: 'example.org' }), memory), {
      input: 'example.org',
      origin: 'settings',
    });
  });

  it('remembers per appservice in the workspace state, across instances', async () => {
    const store = new InMemoryMemento();
    await new HomeserverMemory(store).remember('k1', 'one.example');
    await new HomeserverMemory(store).remember('k2', 'two.example');
    const again = new HomeserverMemory(store);
    assert.equal(again.get('k1'), 'one.example');
    assert.equal(again.get('k2'), 'two.example');
    await again.forget('k1');
    assert.equal(again.get('k1'), undefined);
  });

  it('offers each account homeserver once', () => {
    const choices = homeserverChoices([
      { userId: '@a:x', homeserverUrl: 'https://x.example/' },
      { userId: '@b:x', homeserverUrl: 'https://x.example' },
      { userId: '@c:y', homeserverUrl: 'https://y.example' },
    ]);
    assert.deepEqual(choices, [
      { homeserverUrl: 'https://x.example', userIds: ['@a:x', '@b:x'] },
      { homeserverUrl: 'https://y.example', userIds: ['@c:y'] },
    ]);
  });
});

describe('what the tree and notifications say', () => {
  it('shows id, homeserver and last result on the item', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.replaceFiles([[file('reg.yaml'), registrationYaml({ id: 'telegram' })]]);
    const [item] = catalog.items();
    const hs = { input: 'http://127.0.0.1:8008', origin: 'remembered' as const };
    const never = appserviceNode(item, hs, undefined);
    assert.equal(never.label, 'telegram');
    assert.equal(never.description, '127.0.0.1:8008 · never pinged');
    assert.equal(never.icon.id, 'circle-large-outline');
    assert.match(never.contextValue, /^appservice\.file/);
    const ok = appserviceNode(item, hs, { ok: true, at: 0, durationMs: 12, summary: 's' });
    assert.equal(ok.description, '127.0.0.1:8008 · ok 12 ms');
    assert.equal(ok.icon.id, 'pass');
    const failing = appserviceNode(item, undefined, { ok: false, at: 0, errcode: 'M_CONNECTION_FAILED', status: 502, summary: 's' });
    assert.equal(failing.description, 'no homeserver chosen · M_CONNECTION_FAILED');
    assert.equal(failing.icon.id, 'error');
    for (const node of [never, ok, failing]) assert.ok(!JSON.stringify(node).includes('as_secret'), 'no token in the tree');
  });

  it('lists url, sender_localpart, namespaces and problems as children', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.replaceFiles([[file('reg.yaml'), registrationYaml({ id: 'a', url: null })]]);
    const [item] = catalog.items();
    const children = detailNodes(item);
    assert.deepEqual(
      children.slice(0, 3).map((c) => c.label),
      ['url', 'sender_localpart', 'namespaces'],
    );
    assert.match(children[0].description ?? '', /null/);
    assert.ok((children[2].children ?? []).length > 0, 'namespaces are listed');
    const problem = children.find((c) => c.open);
    assert.ok(problem, 'the url: null warning is a child that opens the file');
    assert.equal(problem.open?.line, 2);
    assert.ok(!JSON.stringify(children).includes('as_secret'));
  });

  it('a settings-only appservice says whether its as_token is set', () => {
    const catalog = new AppserviceCatalog(dir);
    catalog.setEntries([{ id: 'remote' }]);
    const [item] = catalog.items();
    assert.match(appserviceNode(item, undefined, undefined).contextValue, /^appservice\.settings/);
    assert.match(detailNodes(item, { hasAsToken: false })[0].description ?? '', /not set/);
    assert.match(detailNodes(item, { hasAsToken: true })[0].description ?? '', /^set/);
  });

  it('sums up Ping All as "5 ok, 2 failing — see output"', () => {
    const base = { reports: [] };
    assert.equal(formatPingAllSummary({ ...base, ok: 5, failing: 2, skipped: 0, cancelled: 0 }), '5 ok, 2 failing — see output');
    assert.equal(
      formatPingAllSummary({ ...base, ok: 1, failing: 0, skipped: 1, cancelled: 2 }),
      '1 ok, 0 failing, 1 without a homeserver, 2 cancelled — see output',
    );
    assert.equal(describeLastPing(undefined), 'never pinged');
  });
});

describe('runWithConcurrency', () => {
  it('never runs more than the limit at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const results = await runWithConcurrency(
      [50, 10, 30, 5, 20, 1, 15],
      3,
      async (ms, i) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, ms));
        running--;
        return i;
      },
      () => -1,
    );
    assert.equal(peak, 3);
    assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6]);
  });

  it('starts nothing new after cancellation', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const results = await runWithConcurrency(
      [0, 1, 2, 3, 4, 5],
      2,
      async (i) => {
        started.push(i);
        if (i === 1) controller.abort();
        await new Promise((r) => setTimeout(r, 5));
        return 'ran';
      },
      () => 'skipped',
      controller.signal,
    );
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(results, ['ran', 'ran', 'skipped', 'skipped', 'skipped', 'skipped']);
  });
});

describe('readingAhead', () => {
  const settle = () => new Promise((r) => setTimeout(r, 1));

  it("reads lane by lane's next item once the current one is read, and hands each read out once", async () => {
    const started: string[] = [];
    const release = new Map<string, () => void>();
    const read = (key: string) => {
      started.push(key);
      return new Promise<string>((resolve) => release.set(key, () => resolve(`text of ${key}`)));
    };
    const order = ['a', 'b', 'c', 'd', 'e'];
    const ahead = readingAhead(order, 2, read);
    const a = ahead('a');
    const b = ahead('b');
    await settle();
    assert.deepEqual(started, ['a', 'b'], 'nothing is read ahead before a read is done');
    release.get('a')?.();
    assert.equal(await a, 'text of a');
    await settle();
    assert.deepEqual(started, ['a', 'b', 'c'], "a's read done: the read of c (two lanes on) starts");
    release.get('c')?.();
    await settle();
    const c = ahead('c');
    assert.equal(await c, 'text of c');
    assert.deepEqual(started, ['a', 'b', 'c', 'e'], 'c came from the read ahead, and starts the read of e');
    release.get('b')?.();
    await b;
    await settle();
    assert.deepEqual(started, ['a', 'b', 'c', 'e', 'd']);
    // Handed out once: asking again reads again.
    const again = ahead('c');
    await settle();
    assert.equal(started.filter((k) => k === 'c').length, 2);
    release.get('c')?.();
    assert.equal(await again, 'text of c');
  });

  it('a read that fails ahead fails for the one who asks for it, and for no one before', async () => {
    const failures: unknown[] = [];
    const onUnhandled = (e: unknown) => failures.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ahead = readingAhead(['ok', 'broken'], 1, async (key) => {
        if (key === 'broken') throw new Error('EACCES: permission denied');
        return key;
      });
      assert.equal(await ahead('ok'), 'ok');
      await settle();
      await settle();
      assert.deepEqual(failures, [], 'the failed read ahead is not an unhandled rejection');
      await assert.rejects(ahead('broken'), /EACCES/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
