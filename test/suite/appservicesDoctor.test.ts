// The appservice doctor in a real extension host: Diagnose Appservice from
// the tree item and from the palette, Diagnose All, Which Appservice Owns…,
// and cross-file conflicts in the Problems panel, against the test
// homeserver and real appservices on loopback. Nothing secret may appear in
// the output, the tree or a notification.
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { formatDoctorSummary } from '../../src/core/doctor';
import type { DoctorRun } from '../../src/vscode/appservices/doctorService';
import {
  addRegistration,
  fakeAppservice,
  lastBlock,
  node,
  registration,
  loadedItem,
  registrationYaml,
  renderedItemFor,
  testFolder,
  treeText,
  typeHomeserverWhenAsked,
  usedSecrets,
  useHomeserver,
  writeFile,
} from './support/appservices';
import { afterThisTest, type Api, extensionApi, runCommand, scriptPrompts, startHomeserver } from './support/host';

const CHECKS = [
  'registration',
  'as-token',
  'appservice-id',
  'homeserver-ping',
  'direct-ping',
  'transactions',
  'namespaces',
  'server-features',
];

function assertNoSecret(texts: readonly string[], where: string): void {
  for (const text of texts) for (const secret of usedSecrets) assert.ok(!text.includes(secret), `a token appeared in ${where}`);
}

describe('Appservice doctor in the extension host', () => {
  let api: Api;
  before(async () => {
    api = await extensionApi();
  });

  it('Diagnose Appservice on a tree item: every check as a child, the block in the output, one summary', async () => {
    const hs = await startHomeserver();
    const dir = testFolder(api, 'doctor');
    const reg = registration('doctor', null);
    reg.url = (await fakeAppservice({ hsToken: reg.hs_token, transactions: 'status500' })).url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, dir, reg);
    await useHomeserver(api, item, hs);
    const prompts = await scriptPrompts();

    const run = await runCommand<DoctorRun>('matrixDevtools.diagnoseAppservice', node(item));
    assert.deepStrictEqual(
      run.report.checks.map((c) => [c.id, c.status]),
      [
        ['registration', 'warn'],
        ['as-token', 'ok'],
        ['appservice-id', 'ok'],
        ['homeserver-ping', 'ok'],
        ['direct-ping', 'ok'],
        ['transactions', 'fail'],
        ['namespaces', 'ok'],
        ['server-features', 'ok'],
      ],
    );
    assert.deepStrictEqual(
      prompts.notifications.map((n) => [n.kind, n.message, n.actions]),
      [['warning', `${reg.id}: 6 ok, 1 warning, 1 failed`, ['Show Output']]],
    );

    const rendered = await renderedItemFor(api, item);
    const checks = rendered.children.slice(0, CHECKS.length);
    assert.deepStrictEqual(
      checks.map((c) => c.label),
      CHECKS,
    );
    assert.deepStrictEqual(
      checks.map((c) => c.icon),
      ['warning', 'pass', 'pass', 'pass', 'pass', 'error', 'pass', 'pass'],
    );
    const txn = checks[5];
    assert.strictEqual(
      txn.description,
      "The appservice answered an empty transaction with HTTP 500 M_UNKNOWN: the homeserver's transactions fail the same way, so the bridge receives no events.",
    );
    assert.match(
      txn.tooltip ?? '',
      /\n\nNext: Look at the appservice's logs for the error behind that answer\. Synapse retries failed transactions/,
    );
    assert.strictEqual(
      checks[1].description,
      `The homeserver knows this as_token: it answers as the sender @${reg.sender_localpart}:localhost.`,
    );
    assert.match(rendered.tooltip ?? '', new RegExp(`Diagnosed .*: ${reg.id}: 6 ok, 1 warning, 1 failed`));
    // The usual details stay below the checks.
    assert.ok(rendered.children.slice(CHECKS.length).some((c) => c.label === 'url'));

    const block = lastBlock(api, `Diagnose appservice "${reg.id}" via ${hs.baseUrl} at `);
    assert.strictEqual(block.length, 1 + CHECKS.length + 2 + 1, block.join('\n'));
    assert.match(block[7], /^ {4}fail transactions {4}The appservice answered an empty transaction with HTTP 500/);
    assert.match(block[8], /^ {25}next step: Look at the appservice's logs/);
    assert.strictEqual(block.at(-1), `    ${reg.id}: 6 ok, 1 warning, 1 failed`);

    assertNoSecret(
      [...api.appservices.outputLines(), ...treeText([rendered]), ...prompts.notifications.map((n) => n.message)],
      'the output, tree or notifications',
    );
  });

  it('after the registration changes, the last diagnosis is kept but folded under "out of date"', async () => {
    const hs = await startHomeserver();
    const dir = testFolder(api, 'doctor-stale');
    const reg = registration('stale', null);
    reg.url = (await fakeAppservice({ hsToken: reg.hs_token })).url;
    hs.registerAppservice(reg);
    const item = await addRegistration(api, dir, reg);
    await useHomeserver(api, item, hs);
    await scriptPrompts();
    const first = await runCommand<DoctorRun>('matrixDevtools.diagnoseAppservice', node(item));
    assert.deepStrictEqual(
      (await renderedItemFor(api, item)).children.slice(0, CHECKS.length).map((c) => c.label),
      CHECKS,
    );
    assert.ok(api.appservices.doctor.last(item.key), 'the diagnosis is remembered');

    const file = writeFile(dir, 'registration.yaml', registrationYaml({ ...reg, sender_localpart: `${reg.sender_localpart}2` }));
    const changed = await loadedItem(api, file, (i) => i.registration?.senderLocalpart === `${reg.sender_localpart}2`);
    assert.ok(api.appservices.doctor.isStale(changed), 'the diagnosis of the old file still counts as current');
    const rendered = await renderedItemFor(api, changed);
    const stale = rendered.children[0];
    assert.strictEqual(stale.label, 'Last diagnosis (out of date)');
    assert.strictEqual(stale.description, formatDoctorSummary(first.report));
    assert.match(stale.tooltip ?? '', /before the registration file last changed: run Diagnose Appservice again\./);
    assert.deepStrictEqual(
      stale.children.map((c) => c.label),
      CHECKS,
    );
    assert.ok(
      !rendered.children.slice(1).some((c) => c.contextValue?.startsWith('appserviceCheck.')),
      'the old checks are not shown as current',
    );
    assert.match(rendered.tooltip ?? '', /\(out of date: the registration changed since\)/);

    await runCommand<DoctorRun>('matrixDevtools.diagnoseAppservice', node(changed));
    assert.strictEqual((await renderedItemFor(api, changed)).children[0].label, 'registration');
  });

  it('from the palette, asks which appservice and which homeserver, and skips the homeserver checks for one that never loaded it', async () => {
    const hs = await startHomeserver();
    const dir = testFolder(api, 'doctor-palette');
    const reg = registration('palette', null);
    reg.url = (await fakeAppservice({ hsToken: reg.hs_token })).url;
    const item = await addRegistration(api, dir, reg);
    const prompts = await scriptPrompts();
    prompts.picks.push(reg.id);
    prompts.inputs.push(hs.baseUrl);
    typeHomeserverWhenAsked(prompts);

    const run = await runCommand<DoctorRun>('matrixDevtools.diagnoseAppservice');
    assert.ok(run, 'the command ran');
    assert.strictEqual(run.report.appservice, reg.id);
    const asToken = run.report.checks.find((c) => c.id === 'as-token');
    assert.strictEqual(asToken?.status, 'fail');
    assert.strictEqual(
      asToken?.message,
      'The homeserver does not know this as_token (M_UNKNOWN_TOKEN): it has not loaded this registration.',
    );
    assert.strictEqual(run.report.checks.find((c) => c.id === 'homeserver-ping')?.status, 'skipped');
    assert.strictEqual(prompts.notifications.at(-1)?.message, `${reg.id}: 4 ok, 1 warning, 1 failed, 2 skipped`);
    // The homeserver typed once is remembered for the next ping or diagnosis.
    assert.strictEqual(api.appservices.memory.get(item.key), hs.baseUrl);
    afterThisTest(() => api.appservices.memory.forget(item.key));
  });

  it('Diagnose All diagnoses every registration file and sums up', async () => {
    const hs = await startHomeserver();
    const dir = testFolder(api, 'doctor-all');
    const good = registration('all-good', null);
    good.url = (await fakeAppservice({ hsToken: good.hs_token })).url;
    hs.registerAppservice(good);
    const goodItem = await addRegistration(api, dir, good, 'good-registration.yaml');
    await useHomeserver(api, goodItem, hs);
    const receiveOnly = registration('all-null', null);
    hs.registerAppservice(receiveOnly);
    const nullItem = await addRegistration(api, dir, receiveOnly, 'null-registration.yaml');
    await useHomeserver(api, nullItem, hs);
    const prompts = await scriptPrompts();
    const runs = await runCommand<DoctorRun[]>('matrixDevtools.diagnoseAllAppservices');
    const mine = runs.filter((r) => r.appserviceKey === goodItem.key || r.appserviceKey === nullItem.key);
    assert.strictEqual(mine.length, 2);
    assert.ok(
      mine.every((r) => !r.report.checks.some((c) => c.status === 'fail')),
      JSON.stringify(mine.map((r) => r.report.checks)),
    );
    assert.match(prompts.notifications.at(-1)?.message ?? '', new RegExp(`^Diagnosed ${runs.length} appservices: .* — see output$`));
    assert.strictEqual(
      (await renderedItemFor(api, nullItem)).children.find((c) => c.label === 'transactions')?.description,
      'Skipped: the registration has url: null (receive-only), so the homeserver never calls it.',
    );
  });

  it('Which Appservice Owns… lists the registrations whose namespaces claim an id and opens the one picked', async () => {
    const dir = testFolder(api, 'doctor-owns');
    const reg = registration('owns', null);
    const local = reg.namespaces?.users?.[0].regex ?? '';
    const item = await addRegistration(api, dir, reg);
    const prompts = await scriptPrompts();
    const someone = `${local.replace('.*', 'alice')}:example.org`;
    prompts.inputs.push(someone);
    prompts.picks.push(reg.id);
    const claims = await runCommand<Array<{ appserviceId: string; regex: string; exclusive: boolean }>>(
      'matrixDevtools.whichAppserviceOwns',
    );
    assert.deepStrictEqual(
      claims.map((c) => [c.appserviceId, c.regex, c.exclusive]),
      [[reg.id, local, true]],
    );
    assert.strictEqual(
      prompts.quickPicks.at(-1)?.placeHolder,
      `${someone} is claimed by 1 namespace(s): pick one to open its registration`,
    );
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, item.file);
    // Matched from the start of the id: one more character in front and the namespace no longer claims it.
    prompts.inputs.push(`@x${someone.slice(1)}`);
    assert.deepStrictEqual(await runCommand('matrixDevtools.whichAppserviceOwns'), []);
    assert.strictEqual(prompts.notifications.at(-1)?.message, `No registration in the workspace or settings claims @x${someone.slice(1)}.`);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('shows cross-file conflicts in the Problems panel: a shared hs_token and overlapping exclusive namespaces', async () => {
    const dir = testFolder(api, 'doctor-conflicts');
    const a = registration('conf-a', null);
    const b = registration('conf-b', null, {
      hs_token: a.hs_token,
      namespaces: { users: [{ exclusive: true, regex: '@.*' }], aliases: [], rooms: [] },
    });
    const itemA = await addRegistration(api, dir, a, 'a-registration.yaml');
    await addRegistration(api, dir, b, 'b-registration.yaml');
    // Only what comes from the other file (each also warns about its own url: null).
    const shown = () =>
      api.appservices
        .diagnosticsFor(itemA.file ?? '')
        .filter((d) => d.code !== 'url-null')
        .map((d) => [d.code, d.severity, d.message]);
    assert.deepStrictEqual(shown(), [
      [
        'duplicate-hs-token',
        vscode.DiagnosticSeverity.Error,
        `Another registration file (${path.join(dir, 'b-registration.yaml')}) uses the same hs_token: give each appservice its own secret, or each one accepts transactions meant for the other.`,
      ],
      [
        'namespace-overlap',
        vscode.DiagnosticSeverity.Warning,
        `This exclusive users namespace overlaps one of "${b.id}" (${path.join(dir, 'b-registration.yaml')}): both claim ids such as ${a.namespaces?.users?.[0].regex.replace('.*', '')}:a; make the regexes disjoint, or the homeserver lets only one of them use those ids.`,
      ],
    ]);
    assertNoSecret(
      api.appservices.diagnosticsFor(itemA.file ?? '').map((d) => d.message),
      'the Problems panel',
    );
  });
});
