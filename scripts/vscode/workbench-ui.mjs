// What a person sees in the browser workbench, read from its DOM: the visible text
// of views, quick inputs, notifications, hovers and the output panel. Every helper
// waits for the text itself (not only for an element) and, when it does not show up,
// throws with the text that was there instead, so a failed step says what the user
// would have seen.

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('playwright-core').Locator} Locator */

export const TIMEOUT_MS = 15_000;

/**
 * Waits until `locator` (its first match) is visible and its visible text
 * (innerText, so hidden parts do not count) contains `expected`.
 * @param {Locator} locator
 * @param {string | RegExp} expected
 * @param {{ timeout?: number, what?: string }} [options]  `what` names it in the error
 * @returns {Promise<string>} the text it showed
 */
export async function expectText(locator, expected, { timeout = TIMEOUT_MS, what = 'element' } = {}) {
  const first = locator.first();
  const deadline = Date.now() + timeout;
  let seen = '';
  for (;;) {
    try {
      if (await first.isVisible()) {
        seen = normalise(await first.innerText({ timeout: 1000 }));
        if (matches(seen, expected)) return seen;
      } else {
        seen = '(not visible)';
      }
    } catch {
      seen = '(not on the page)';
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: expected to see ${show(expected)}, saw ${JSON.stringify(seen.slice(0, 400))}`);
    }
    await first.page().waitForTimeout(150);
  }
}

/** @param {string} text @param {string | RegExp} expected */
function matches(text, expected) {
  return typeof expected === 'string' ? text.includes(expected) : expected.test(text);
}

/** @param {string | RegExp} expected */
function show(expected) {
  return typeof expected === 'string' ? JSON.stringify(expected) : String(expected);
}

/** Collapses runs of spaces (not newlines) and trims. @param {string} text */
function normalise(text) {
  return text.replace(/[ \t\u00a0]+/g, ' ').trim();
}

/**
 * The side-bar pane (view) whose header reads `title` (headers are upper-cased by
 * CSS, so the match ignores case).
 * @param {Page} page
 * @param {string} title
 */
export function viewPane(page, title) {
  return page.locator('.part.sidebar .pane').filter({
    has: page.locator('.pane-header', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}`, 'i') }),
  });
}

/** Expands a collapsed view pane by clicking its header. @param {Page} page @param {string} title */
export async function expandView(page, title) {
  const header = viewPane(page, title).locator('.pane-header').first();
  await header.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
}

/**
 * Drags the side bar's edge so it is `width` px wide (long descriptions then show).
 * @param {Page} page
 * @param {number} width
 */
export async function resizeSideBar(page, width) {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) throw new Error('no side bar on the page');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width + 1, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 8 });
  await page.mouse.up();
  await page.mouse.move(900, 600); // off the sash, which highlights while hovered
}

/** Tree rows of a view pane. @param {Page} page @param {string} title */
export function treeRows(page, title) {
  return viewPane(page, title).locator('.monaco-list-row');
}

export const quickInput = (/** @type {Page} */ page) => page.locator('.quick-input-widget');

/**
 * Waits for the quick input to show `title` (its title bar or prompt), types `text`
 * into its input box (key by key, as a person would) and presses Enter.
 * @param {Page} page
 * @param {{ expect: string | RegExp, text: string, password?: boolean }} options
 *   `password` also checks the box masks what is typed.
 */
export async function answerInputBox(page, { expect, text, password = false }) {
  const widget = quickInput(page);
  await expectText(widget, expect, { what: 'quick input' });
  const input = widget.locator('.quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  const type = await input.getAttribute('type');
  if (password && type !== 'password') throw new Error(`quick input "${expect}" should mask the password, but its input has type=${type}`);
  await input.fill('');
  await input.pressSequentially(text, { delay: 10 });
  await input.press('Enter');
}

/**
 * Waits for a quick pick row that reads `label` and clicks it.
 * @param {Page} page
 * @param {{ expect?: string | RegExp, label: string }} options  `expect`: the pick's title or placeholder
 */
export async function pickQuickItem(page, { expect, label }) {
  const widget = quickInput(page);
  if (expect) await expectText(widget, expect, { what: 'quick pick' });
  const row = widget.locator('.quick-input-list .monaco-list-row').filter({ hasText: label });
  await expectText(row, label, { what: `quick pick row "${label}"` });
  await row.first().click();
}

/**
 * Runs a command from the palette (F1) by its visible title, e.g.
 * "Matrix: Ping All Appservices".
 * @param {Page} page
 * @param {string} title
 */
export async function runFromPalette(page, title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = quickInput(page).locator('.quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  await input.fill(`>${title}`);
  const row = quickInput(page)
    .locator('.quick-input-list .monaco-list-row')
    .filter({ hasText: new RegExp(`^\\s*${escapeRegExp(title)}`) });
  await expectText(row, title, { what: `palette entry "${title}"` });
  await row.first().click();
}

/** Notification toasts; filter them with hasText. @param {Page} page */
export function notificationToasts(page) {
  return page.locator('.notifications-toasts .notification-toast');
}

/**
 * Waits until no toast reads `text` (a finished progress notification fades out).
 * @param {Page} page
 * @param {string} text
 */
export async function waitForToastGone(page, text) {
  await notificationToasts(page)
    .filter({ hasText: text })
    .first()
    .waitFor({ state: 'hidden', timeout: 10_000 })
    .catch(() => {});
}

/** Hides the toasts so they do not cover a screenshot. @param {Page} page */
export async function clearNotifications(page) {
  await runFromPalette(page, 'Notifications: Clear All Notifications');
  await page
    .locator('.notifications-toasts .notification-toast')
    .first()
    .waitFor({ state: 'hidden', timeout: 5000 })
    .catch(() => {});
}

/** The hover (tooltip) widget. @param {Page} page */
export function hoverWidget(page) {
  return page.locator('.workbench-hover, .monaco-hover:not(.hidden)').filter({ hasText: /\S/ });
}

/**
 * Hovers `target` until the hover widget shows `expected`: the workbench ignores a
 * hover that arrives while it is busy, so it moves away and back a few times.
 * @param {Page} page
 * @param {Locator} target
 * @param {string | RegExp} expected
 * @returns {Promise<Locator>} the hover widget
 */
export async function hoverFor(page, target, expected) {
  const hover = hoverWidget(page);
  for (let attempt = 1; ; attempt++) {
    await page.mouse.move(900, 600);
    await target.hover();
    try {
      await expectText(hover, expected, { what: 'tooltip', timeout: 4000 });
      return hover;
    } catch (e) {
      if (attempt === 4) throw e;
    }
  }
}

/**
 * The text of the editor in the Output panel, all of it: Monaco renders only the
 * lines in view, so this scrolls through it and orders the lines by position.
 * Word wrap is expected off for log output (one model line = one view line).
 * @param {Page} page
 * @returns {Promise<string>}
 */
export async function readOutputPanel(page) {
  const editor = page.locator('.part.panel .monaco-editor').first();
  await editor.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  /** @type {Map<number, string>} */
  const lines = new Map();
  const collect = async () => {
    const visible = await editor.evaluate((el) =>
      [...el.querySelectorAll('.view-lines .view-line')].map((line) => [
        parseFloat(/** @type {HTMLElement} */ (line).style.top) || 0,
        (line.textContent ?? '').replace(/\u00a0/g, ' '),
      ]),
    );
    for (const [top, text] of visible) lines.set(/** @type {number} */ (top), /** @type {string} */ (text));
  };
  await focusEditor(page, editor);
  await page.keyboard.press('Control+Home');
  await page.waitForTimeout(200);
  let before = -1;
  for (let i = 0; i < 200 && lines.size !== before; i++) {
    before = lines.size;
    await collect();
    await page.keyboard.press('PageDown');
    await page.waitForTimeout(100);
  }
  await collect();
  return [...lines.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, text]) => text)
    .join('\n');
}

/**
 * Puts the keyboard focus into an editor by clicking inside its text area (a
 * locator click can be refused: Monaco layers overlays above the text).
 * @param {Page} page
 * @param {Locator} editor  a `.monaco-editor`
 */
export async function focusEditor(page, editor) {
  const box = await editor.boundingBox();
  if (!box) throw new Error('the editor is not on the page');
  await page.mouse.click(box.x + box.width * 0.75, box.y + Math.min(40, box.height / 2));
}

/** @param {string} s */
export function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
