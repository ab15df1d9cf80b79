// The steps of the UI walk (ui-walk.mjs), in order. Each one does what a person
// would do and checks the text they would read; `needs` names the steps it builds
// on (skipped when one of them did not pass). Screenshot names are the README's.
import {
  answerInputBox,
  clearNotifications,
  escapeRegExp,
  expandView,
  expectText,
  focusEditor,
  hoverFor,
  hoverWidget,
  notificationToasts,
  pickQuickItem,
  quickInput,
  readOutputPanel,
  resizeSideBar,
  runFromPalette,
  treeRows,
  waitForToastGone,
  viewPane,
} from './workbench-ui.mjs';

/**
 * @typedef {object} WalkContext
 * @property {import('playwright-core').Page} page
 * @property {{ baseUrl: string }} homeserver
 * @property {{ baseUrl: string, issuer: string }} oauthHomeserver  sign-in delegated to `issuer`
 *   (oidc-provider, as with MAS); password login stays on, so Add Account asks how
 * @property {(name: string) => Promise<void>} screenshot  saves <out>/<name>.png
 *
 * @typedef {{ name: string, needs?: string[], run: (c: WalkContext) => Promise<void> }} WalkStep
 */

const USER = { localpart: 'alice', password: 'wonderland', userId: '@alice:localhost' };
/** Signs in on the OAuth 2.0 homeserver: another user, so the two account rows cannot be mixed up. */
const OAUTH_USER = { localpart: 'bob', password: 'builder', userId: '@bob:localhost' };
const APPSERVICES = ['demo-bridge', 'demo-broken', 'demo-down'];
/** The walkthrough's steps (package.json), all done by the time the walk opens it. */
const WALKTHROUGH_STEPS = [
  ['addAccount', 'Add a Matrix account'],
  ['copyToken', 'Rotate and copy a token'],
  ['registrations', 'Find your registration files'],
  ['pingAll', 'Ping all appservices'],
  ['output', 'Read the Matrix Appservices output'],
];

/** @returns {WalkStep[]} */
export function walkSteps() {
  /** What the device-code dialog showed, for the browser tab that enters it. */
  const deviceCode = { userCode: '', verificationUri: '' };
  return [
    {
      name: 'open the Matrix view from the activity bar',
      run: async ({ page }) => {
        // The Welcome page a new user meets at start-up: closed, as most people do.
        await expectText(page.locator('.part.editor .tab'), 'Welcome', { what: 'Welcome tab at start-up', timeout: 30_000 });
        await runFromPalette(page, 'View: Close All Editors');
        await showMatrixView(page);
        await expectText(page.locator('.part.sidebar .composite.title'), /matrix/i, { what: 'side bar title' });
        await expectText(viewPane(page, 'Accounts').locator('.pane-header'), /accounts/i, { what: 'Accounts view header' });
        await resizeSideBar(page, 470);
      },
    },
    {
      name: 'accounts welcome view offers Add Account',
      needs: ['open the Matrix view from the activity bar'],
      run: async ({ page, screenshot }) => {
        const welcome = viewPane(page, 'Accounts').locator('.welcome-view-content');
        await expectText(welcome, 'No Matrix accounts yet. Add one to get fresh access tokens', {
          what: 'Accounts welcome view',
          timeout: 30_000,
        });
        await expectText(welcome, 'Sign in with a password or paste an existing access token.', { what: 'Accounts welcome view' });
        await expectText(welcome.locator('.monaco-button').filter({ hasText: 'Add Account' }), 'Add Account', {
          what: 'Add Account button',
        });
        await expectTheme(page, 'dark');
        await screenshot('accounts-welcome-dark');
      },
    },
    {
      name: 'Add Account asks for the homeserver',
      needs: ['accounts welcome view offers Add Account'],
      run: async ({ page, homeserver }) => {
        await viewPane(page, 'Accounts').locator('.welcome-view-content .monaco-button').filter({ hasText: 'Add Account' }).first().click();
        await expectText(quickInput(page), 'Add Matrix Account', { what: 'quick input title' });
        await answerInputBox(page, { expect: 'Homeserver name or URL', text: homeserver.baseUrl });
      },
    },
    {
      name: 'pick "Sign in with a password"',
      needs: ['Add Account asks for the homeserver'],
      run: async ({ page, homeserver, screenshot }) => {
        const widget = quickInput(page);
        await expectText(widget, `Sign in to ${homeserver.baseUrl}`, { what: 'sign-in method pick', timeout: 20_000 });
        const row = widget.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Sign in with a password' });
        await expectText(row, 'gets a refresh token when the server supports it', { what: 'password method row' });
        await expectText(widget.locator('.quick-input-list'), 'Use an existing access token', { what: 'token method row' });
        await waitForToastGone(page, 'Contacting');
        await screenshot('add-account-sign-in-method');
        await row.first().click();
      },
    },
    {
      name: 'type the user name',
      needs: ['pick "Sign in with a password"'],
      run: ({ page }) => answerInputBox(page, { expect: 'User name or full user ID', text: USER.localpart }),
    },
    {
      name: 'type the password into a masked input',
      needs: ['type the user name'],
      run: ({ page }) => answerInputBox(page, { expect: `Password for ${USER.localpart}`, text: USER.password, password: true }),
    },
    {
      name: `the account ${USER.userId} appears, signed in`,
      needs: ['type the password into a masked input'],
      run: async ({ page, homeserver, screenshot }) => {
        const host = new URL(homeserver.baseUrl).host;
        const row = treeRows(page, 'Accounts').filter({ hasText: USER.userId });
        await expectText(row, USER.userId, { what: 'account row', timeout: 20_000 });
        await expectText(row, host, { what: 'account row description' });
        await expectText(
          notificationToasts(page).filter({ hasText: 'Signed in as' }),
          `Signed in as ${USER.userId} on ${homeserver.baseUrl}.`,
          { what: 'notification' },
        );
        await waitForToastGone(page, 'Signing in to');
        await screenshot('accounts-signed-in-dark');
      },
    },
    {
      name: 'the account tooltip shows user, device and expiry',
      needs: [`the account ${USER.userId} appears, signed in`],
      run: async ({ page, homeserver, screenshot }) => {
        await clearNotifications(page);
        const row = treeRows(page, 'Accounts').filter({ hasText: USER.userId }).first();
        const hover = await hoverFor(page, row.locator('.label-name').first(), USER.userId);
        await expectText(hover, /Device ID: [A-Z0-9]{4,}/, { what: 'account tooltip' });
        await expectText(hover, `Homeserver: ${homeserver.baseUrl}`, { what: 'account tooltip' });
        await expectText(hover, /Access token: expires in \d+ (s|min)/, { what: 'account tooltip' });
        await expectText(hover, 'Signed in', { what: 'account tooltip' });
        await screenshot('account-tooltip');
        await page.mouse.move(900, 400);
      },
    },
    {
      name: 'Matrix: Copy Access Token (F1) copies a working token and never shows it',
      needs: [`the account ${USER.userId} appears, signed in`],
      run: async ({ page, homeserver }) => {
        await clearNotifications(page);
        await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
        await runFromPalette(page, 'Matrix: Copy Access Token');
        const toast = notificationToasts(page).filter({ hasText: 'Copied the access token' });
        await expectText(
          toast,
          new RegExp(`Copied the access token of ${escapeRegExp(USER.userId)} to the clipboard; it expires in \\d+ (s|min|h)\\.`),
          { what: 'Copy notification', timeout: 20_000 },
        );
        const token = await page.evaluate(() => navigator.clipboard.readText());
        if (!token || /\s/.test(token)) throw new Error(`the clipboard holds no token: "${token.slice(0, 8)}…"`);
        const me = await fetch(new URL('/_matrix/client/v3/account/whoami', homeserver.baseUrl), {
          headers: { Authorization: `Bearer ${token}` },
        });
        const body = /** @type {{ user_id?: string }} */ (await me.json());
        if (me.status !== 200 || body.user_id !== USER.userId)
          throw new Error(`whoami with the copied token: HTTP ${me.status} ${JSON.stringify(body)}`);
        if ((await page.locator('body').innerText()).includes(token)) throw new Error('the copied token is shown on screen');
      },
    },
    {
      name: 'Matrix: Rotate Refresh Token Now (F1) rotates and says when the new token expires',
      needs: [`the account ${USER.userId} appears, signed in`],
      run: async ({ page }) => {
        await clearNotifications(page);
        await runFromPalette(page, 'Matrix: Rotate Refresh Token Now');
        const toast = notificationToasts(page).filter({ hasText: 'Rotated the tokens' });
        await expectText(
          toast,
          new RegExp(`Rotated the tokens of ${escapeRegExp(USER.userId)}; the new access token expires in \\d+ (s|min|h)\\.`),
          { what: 'Rotate notification', timeout: 20_000 },
        );
      },
    },
    {
      name: 'Matrix: Check Session (F1) names the user, homeserver and device',
      needs: [`the account ${USER.userId} appears, signed in`],
      run: async ({ page, homeserver }) => {
        await clearNotifications(page);
        await runFromPalette(page, 'Matrix: Check Session');
        const toast = notificationToasts(page).filter({ hasText: 'is signed in on' });
        await expectText(
          toast,
          new RegExp(
            `${escapeRegExp(USER.userId)} is signed in on ${escapeRegExp(homeserver.baseUrl)} \\(device [A-Z0-9]{4,}\\); the access token expires in`,
          ),
          { what: 'Check Session notification', timeout: 20_000 },
        );
        await clearNotifications(page);
      },
    },
    {
      name: 'the Appservices view lists the demo registrations',
      needs: ['open the Matrix view from the activity bar'],
      run: async ({ page, homeserver }) => {
        await expandView(page, 'Appservices');
        const host = new URL(homeserver.baseUrl).host;
        for (const id of APPSERVICES) {
          const row = treeRows(page, 'Appservices').filter({ hasText: id });
          await expectText(row, id, { what: `appservice row ${id}`, timeout: 20_000 });
          await expectText(row, `${host} · never pinged`, { what: `appservice row ${id}` });
        }
      },
    },
    {
      name: 'Matrix: Ping All Appservices (F1) sums up in a notification',
      needs: ['the Appservices view lists the demo registrations'],
      run: async ({ page, screenshot }) => {
        await runFromPalette(page, 'Matrix: Ping All Appservices');
        const toast = notificationToasts(page).filter({ hasText: 'see output' });
        await expectText(toast, '1 ok, 2 failing — see output', { what: 'Ping All notification', timeout: 30_000 });
        await expectText(toast.locator('.monaco-button'), 'Show Output', { what: 'Ping All notification button' });
        const row = (/** @type {string} */ id) => treeRows(page, 'Appservices').filter({ hasText: id });
        await expectText(row('demo-bridge'), /demo-bridge\s*\S+ · ok \d+ ms/, { what: 'demo-bridge row' });
        await expectText(row('demo-down'), 'M_CONNECTION_FAILED', { what: 'demo-down row' });
        await expectText(row('demo-broken'), 'M_BAD_STATUS', { what: 'demo-broken row' });
        await screenshot('appservices-after-ping-all');
        // Toasts hide themselves after a while: follow the notification's button now.
        await toast.locator('.monaco-button').filter({ hasText: 'Show Output' }).first().click();
      },
    },
    {
      name: 'the Matrix Appservices output explains every ping',
      needs: ['Matrix: Ping All Appservices (F1) sums up in a notification'],
      run: async ({ page, screenshot }) => {
        // The notification's Show Output button opened it (the previous step); the walkthrough's
        // output step must be ticked off by that alone (checked when the walk opens the walkthrough).
        const panel = page.locator('.part.panel');
        await expectText(panel.locator('.composite.title'), /output/i, { what: 'panel title' });
        const channel = await panel
          .locator('select.monaco-select-box, .monaco-select-box')
          .first()
          .evaluate((el) => (el instanceof HTMLSelectElement ? (el.selectedOptions[0]?.textContent ?? '') : (el.textContent ?? '')));
        if (!/Matrix Appservices/.test(channel)) throw new Error(`output channel picker shows "${channel}", expected "Matrix Appservices"`);
        const text = await readOutputPanel(page);
        const blocks = pingBlocks(text);
        const need = (/** @type {string} */ id, /** @type {RegExp[]} */ patterns) => {
          const block = blocks.get(id);
          if (!block) throw new Error(`no "Ping appservice \\"${id}\\"" block in the output; it reads:\n${text.slice(-1500)}`);
          for (const p of patterns) if (!p.test(block)) throw new Error(`the output block for ${id} lacks ${p}:\n${block}`);
        };
        need('demo-bridge', [/outcome: OK \(HTTP 200\)/, /explanation: The homeserver reached the appservice in \d+ ms\./]);
        need('demo-down', [
          /outcome: failed: HTTP \d+ M_CONNECTION_FAILED/,
          /explanation: The homeserver could not connect to the appservice \(M_CONNECTION_FAILED\)\./,
          /next step: Check the registration's url: is the appservice running/,
        ]);
        need('demo-broken', [
          /outcome: failed: HTTP \d+ M_BAD_STATUS/,
          /appservice answered the homeserver: HTTP 500/,
          /explanation: The appservice answered the homeserver with HTTP 500 \(M_BAD_STATUS\)\./,
          /next step: Look at the appservice's logs/,
        ]);
        if (/\b(as|hs)_[A-Za-z0-9_-]{20,}/.test(text)) throw new Error('the output shows a token');
        await clearNotifications(page);
        // The whole width for the shot, wrapped so the explanations can be read.
        await runFromPalette(page, 'View: Toggle Primary Side Bar Visibility');
        await runFromPalette(page, 'View: Toggle Maximized Panel');
        await focusEditor(page, panel.locator('.monaco-editor').first());
        await focusEditor(page, panel.locator('.monaco-editor').first());
        await page.keyboard.press('Alt+Z'); // View: Toggle Word Wrap, for the focused editor
        await page.keyboard.press('Control+Home');
        await page.mouse.move(640, 790);
        await page.waitForTimeout(400);
        await screenshot('output-appservices');
        await runFromPalette(page, 'View: Toggle Maximized Panel');
        await showMatrixView(page);
      },
    },
    {
      name: 'Matrix: Diagnose All Appservices (F1) shows each check under the appservice',
      needs: ['Matrix: Ping All Appservices (F1) sums up in a notification'],
      run: async ({ page, screenshot }) => {
        await clearNotifications(page);
        await runFromPalette(page, 'Matrix: Diagnose All Appservices');
        const toast = notificationToasts(page).filter({ hasText: 'Diagnosed 3 appservices' });
        await expectText(toast, /Diagnosed 3 appservices: .*failing — see output/, { what: 'Diagnose All notification', timeout: 60_000 });
        const row = treeRows(page, 'Appservices').filter({ hasText: 'demo-broken' }).first();
        if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
        const check = (/** @type {string} */ id) =>
          treeRows(page, 'Appservices').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(id)}$`) }) });
        await expectText(check('as-token'), /as-token/, { what: 'as-token check row' });
        await expectText(check('homeserver-ping'), /The appservice answered the homeserver/, { what: 'homeserver-ping check row' });
        await expectText(check('direct-ping'), /HTTP 500/, { what: 'direct-ping check row' });
        await expectText(check('transactions'), /transactions\s*\S/, { what: 'transactions check row' });
        await clearNotifications(page);
        await page.mouse.move(900, 400);
        await page.waitForTimeout(300);
        await screenshot('appservice-diagnosed');
        await row.locator('.monaco-tl-twistie').click();
      },
    },
    {
      name: 'Matrix: Get Started (F1) opens the walkthrough',
      needs: ['open the Matrix view from the activity bar'],
      run: async ({ page, screenshot }) => {
        await clearNotifications(page);
        await runFromPalette(page, 'Matrix: Get Started');
        const editor = page.locator('.part.editor');
        await expectText(editor, 'Get started with Matrix DevTools', { what: 'walkthrough title', timeout: 20_000 });
        await expectText(editor, 'Add a Matrix account', { what: 'walkthrough step' });
        await expectText(editor, 'Ping all appservices', { what: 'walkthrough step' });
        // Each step the walk has done by now is ticked off, by the event the manifest names.
        for (const [step, title] of WALKTHROUGH_STEPS) {
          const button = editor.locator(`button.getting-started-step[data-step-id$="${step}"]`);
          await expectText(button, title, { what: `walkthrough step ${step}` });
          const checked = await button.getAttribute('aria-checked', { timeout: 5_000 });
          if (checked !== 'true') throw new Error(`walkthrough step "${title}" is not ticked off (aria-checked=${checked})`);
        }
        await page.mouse.move(900, 700);
        await page.waitForTimeout(500);
        await screenshot('walkthrough');
        await runFromPalette(page, 'View: Close Editor');
      },
    },
    {
      name: 'the Matrix view in the light theme',
      needs: ['open the Matrix view from the activity bar'],
      run: async ({ page, screenshot }) => {
        await useTheme(page, 'Light Modern', 'light');
        await runFromPalette(page, 'View: Hide Panel');
        await showMatrixView(page);
        await clearNotifications(page);
        const account = treeRows(page, 'Accounts').filter({ hasText: USER.userId }).first();
        await expectText(account, USER.userId, { what: 'Accounts view' });
        if ((await account.getAttribute('aria-expanded')) !== 'true') await account.locator('.monaco-tl-twistie').click();
        await expectText(treeRows(page, 'Accounts').filter({ hasText: 'Device ID' }), /Device ID\s*[A-Z0-9]{4,}/, {
          what: 'account detail row',
        });
        await expectText(treeRows(page, 'Accounts').filter({ hasText: 'Access token' }), /expires in \d+/, { what: 'account detail row' });
        await expectText(viewPane(page, 'Appservices'), 'demo-bridge', { what: 'Appservices view' });
        await page.mouse.move(900, 400);
        await page.waitForTimeout(300);
        await screenshot('matrix-view-light');
      },
    },
    {
      name: 'Matrix: Sign Out (F1) ends the session and the tree says so',
      needs: [`the account ${USER.userId} appears, signed in`],
      run: async ({ page }) => {
        await showMatrixView(page);
        await clearNotifications(page);
        await runFromPalette(page, 'Matrix: Sign Out');
        await expectText(notificationToasts(page).filter({ hasText: 'Signed out' }), `Signed out ${USER.userId}.`, {
          what: 'Sign Out notification',
          timeout: 20_000,
        });
        const row = treeRows(page, 'Accounts').filter({ hasText: USER.userId }).first();
        const hover = await hoverFor(page, row.locator('.label-name').first(), USER.userId);
        await expectText(hover, 'Signed out', { what: 'account tooltip after Sign Out' });
        await page.mouse.move(900, 400);
      },
    },
    {
      name: 'Matrix: Add Account (F1) on an OAuth 2.0 server offers a code, the browser or a password',
      needs: ['open the Matrix view from the activity bar'],
      run: async ({ page, oauthHomeserver, screenshot }) => {
        await useTheme(page, 'Dark Modern', 'dark');
        await showMatrixView(page);
        await clearNotifications(page);
        await runFromPalette(page, 'Matrix: Add Account');
        await answerInputBox(page, { expect: 'Homeserver name or URL', text: oauthHomeserver.baseUrl });
        const widget = quickInput(page);
        await expectText(widget, `Sign in to ${oauthHomeserver.baseUrl}`, { what: 'sign-in method pick', timeout: 20_000 });
        const host = new URL(oauthHomeserver.baseUrl).host;
        const placeholder = await widget.locator('.quick-input-box input').getAttribute('placeholder');
        const expected = `${host} offers OAuth 2.0 and password sign-in; OAuth 2.0 is recommended.`;
        if (placeholder !== expected) throw new Error(`sign-in method pick: placeholder "${placeholder}", expected "${expected}"`);
        const rows = widget.locator('.quick-input-list .monaco-list-row');
        // A web window: the browser cannot come back to the extension host, so the code comes first.
        await expectText(rows.first(), 'Sign in with a code', { what: 'first sign-in method' });
        await expectText(rows.filter({ hasText: 'Sign in with a code' }), 'OAuth 2.0: enter a code in a browser on any device', {
          what: 'code method row',
        });
        await expectText(
          rows.filter({ hasText: 'Sign in with the browser' }),
          `OAuth 2.0 at ${new URL(oauthHomeserver.issuer).host}; your password stays with the server`,
          { what: 'browser method row' },
        );
        await expectText(rows.filter({ hasText: 'Sign in with a password' }), 'Sign in with a password', { what: 'password method row' });
        await waitForToastGone(page, 'Contacting');
        // The pointer is still where the theme pick was clicked, over the first row: away, so no hover covers the rows.
        await page.mouse.move(1100, 600);
        await hoverWidget(page)
          .first()
          .waitFor({ state: 'hidden', timeout: 3000 })
          .catch(() => {});
        await screenshot('add-account-oauth-sign-in-method');
        await rows.filter({ hasText: 'Sign in with a code' }).first().click();
      },
    },
    {
      name: '"Sign in with a code" shows the code, where to enter it, and copies it',
      needs: ['Matrix: Add Account (F1) on an OAuth 2.0 server offers a code, the browser or a password'],
      run: async ({ page, oauthHomeserver, screenshot }) => {
        const dialog = page.locator('.monaco-dialog-box');
        const message = await expectText(dialog, /Your sign-in code: \S+/, { what: 'device-code dialog', timeout: 20_000 });
        const where = await expectText(
          dialog,
          new RegExp(
            `Open (${escapeRegExp(oauthHomeserver.issuer)}/\\S+) in a browser on any device and enter this code; both buttons copy it\\. It expires at`,
          ),
          { what: 'device-code dialog' },
        );
        deviceCode.userCode = /Your sign-in code: (\S+)/.exec(message)?.[1] ?? '';
        deviceCode.verificationUri = /Open (\S+) in a browser/.exec(where)?.[1] ?? '';
        const buttons = dialog.locator('.dialog-buttons .monaco-button');
        for (const label of ['Open Browser', 'Copy Code', 'Cancel']) {
          await expectText(buttons.filter({ hasText: label }), label, { what: 'device-code dialog button' });
        }
        await page.mouse.move(900, 700);
        await screenshot('add-account-device-code');
        await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
        await buttons.filter({ hasText: 'Copy Code' }).first().click();
        await expectText(
          notificationToasts(page).filter({ hasText: 'waiting for you to confirm' }),
          `Enter the code ${deviceCode.userCode} at ${deviceCode.verificationUri}; waiting for you to confirm it…`,
          { what: 'sign-in progress notification' },
        );
        const copied = await page.evaluate(() => navigator.clipboard.readText());
        if (copied !== deviceCode.userCode)
          throw new Error(`Copy Code put "${copied}" on the clipboard, not the code ${deviceCode.userCode}`);
      },
    },
    {
      name: `the code, entered in another browser tab, signs ${OAUTH_USER.localpart} in at the OAuth 2.0 server`,
      needs: ['"Sign in with a code" shows the code, where to enter it, and copies it'],
      run: async ({ page }) => {
        // The person's browser: a second tab of the same chromium, on the authorization server's own pages.
        const tab = await page.context().newPage();
        try {
          await tab.goto(deviceCode.verificationUri);
          await tab.locator('input[name="user_code"]').pressSequentially(deviceCode.userCode, { delay: 10 });
          await tab.locator('#continue').click();
          await expectText(tab.locator('#user-code'), deviceCode.userCode, { what: 'the code on the confirmation page' });
          await tab.locator('#confirm').click();
          await expectText(tab.locator('main'), 'wants to access your Matrix account', { what: 'the sign-in page' });
          await tab.locator('#username').pressSequentially(OAUTH_USER.localpart, { delay: 10 });
          await tab.locator('#password').pressSequentially(OAUTH_USER.password, { delay: 10 });
          await tab.locator('#allow').click();
          await expectText(tab.locator('#done'), 'The application is signed in.', { what: 'the page after signing in' });
        } finally {
          await tab.close();
          await page.bringToFront();
        }
      },
    },
    {
      name: `the OAuth 2.0 account ${OAUTH_USER.userId} appears, signed in, and its session works`,
      needs: [`the code, entered in another browser tab, signs ${OAUTH_USER.localpart} in at the OAuth 2.0 server`],
      run: async ({ page, oauthHomeserver, screenshot }) => {
        const row = treeRows(page, 'Accounts').filter({ hasText: OAUTH_USER.userId }).first();
        // The extension polls the token endpoint at the server's interval (5 s).
        await expectText(row, new URL(oauthHomeserver.baseUrl).host, { what: 'OAuth account row', timeout: 30_000 });
        await expectText(
          notificationToasts(page).filter({ hasText: 'Signed in as' }),
          `Signed in as ${OAUTH_USER.userId} on ${oauthHomeserver.baseUrl}.`,
          { what: 'notification' },
        );
        await waitForToastGone(page, 'with a code');
        // Only this account's details open (the light-theme step opened alice's), so the rows read are its own.
        const other = treeRows(page, 'Accounts').filter({ hasText: USER.userId }).first();
        if ((await other.getAttribute('aria-expanded', { timeout: 2000 }).catch(() => null)) === 'true')
          await other.locator('.monaco-tl-twistie').click();
        if ((await row.getAttribute('aria-expanded')) !== 'true') await row.locator('.monaco-tl-twistie').click();
        await expectText(treeRows(page, 'Accounts').filter({ hasText: 'Sign-in' }), /Sign-in\s*OAuth 2\.0/, { what: 'account detail row' });
        await expectText(treeRows(page, 'Accounts').filter({ hasText: 'Access token' }), /expires in \d+/, { what: 'account detail row' });
        await page.mouse.move(900, 400);
        await page.waitForTimeout(300);
        await screenshot('accounts-oauth-signed-in');

        // whoami with the new access token, which the homeserver checks by introspection at the OAuth 2.0 server.
        await clearNotifications(page);
        await runFromPalette(page, 'Matrix: Check Session');
        const pick = quickInput(page).locator('.quick-input-list .monaco-list-row').filter({ hasText: OAUTH_USER.userId });
        // Asked only when another account is signed in too (the walk signed alice out unless that step failed).
        if (
          await pick
            .first()
            .waitFor({ state: 'visible', timeout: 2000 })
            .then(
              () => true,
              () => false,
            )
        )
          await pick.first().click();
        await expectText(
          notificationToasts(page).filter({ hasText: 'is signed in on' }),
          new RegExp(
            `${escapeRegExp(OAUTH_USER.userId)} is signed in on ${escapeRegExp(oauthHomeserver.baseUrl)} \\(device [A-Za-z0-9-]{10,}\\); the access token expires in`,
          ),
          { what: 'Check Session notification', timeout: 20_000 },
        );
        await clearNotifications(page);
      },
    },
  ];
}

/**
 * Splits the output into ping blocks: a `Ping appservice "id" at …` line and the
 * indented lines that follow it (request lines of other pings may sit in between).
 * @param {string} text
 * @returns {Map<string, string>} appservice id -> block (the last one for that id)
 */
export function pingBlocks(text) {
  /** @type {Map<string, string>} */
  const blocks = new Map();
  let current;
  let lines = [];
  for (const line of text.split('\n')) {
    const head = /Ping appservice "([^"]+)" at /.exec(line);
    if (head) {
      if (current) blocks.set(current, lines.join('\n'));
      current = head[1];
      lines = [line];
    } else if (current && /\] {2,}\S/.test(line)) {
      lines.push(line);
    } else if (current) {
      blocks.set(current, lines.join('\n'));
      current = undefined;
    }
  }
  if (current) blocks.set(current, lines.join('\n'));
  return blocks;
}

/**
 * Opens the Matrix view container unless the side bar shows it already (clicking
 * the active activity-bar entry would close the side bar).
 * @param {import('playwright-core').Page} page
 */
async function showMatrixView(page) {
  const title = page.locator('.part.sidebar .composite.title');
  if ((await title.isVisible()) && /matrix/i.test(await title.innerText())) return;
  await page.locator('.activitybar [aria-label^="Matrix"]').first().click({ timeout: 20_000 });
}

/**
 * Picks a colour theme, as a person does (Preferences: Color Theme).
 * @param {import('playwright-core').Page} page
 * @param {string} label  e.g. 'Light Modern'
 * @param {'dark' | 'light'} kind
 */
async function useTheme(page, label, kind) {
  await runFromPalette(page, 'Preferences: Color Theme');
  await quickInput(page).locator('.quick-input-box input').fill(label);
  await pickQuickItem(page, { label });
  await expectTheme(page, kind);
}

/**
 * @param {import('playwright-core').Page} page
 * @param {'dark' | 'light'} kind
 */
async function expectTheme(page, kind) {
  const workbench = page.locator('.monaco-workbench');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const classes = (await workbench.getAttribute('class')) ?? '';
    const dark = /\bvs-dark\b|\bhc-black\b/.test(classes);
    if ((kind === 'dark') === dark) return;
    if (Date.now() > deadline) throw new Error(`expected a ${kind} theme, the workbench has classes "${classes}"`);
    await page.waitForTimeout(200);
  }
}
