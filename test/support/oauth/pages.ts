// The HTML pages of the test authorization server: sign-in, the device flow's
// code entry and confirmation, the account page. Plain forms with stable
// names, so an HTTP client (unit tests) and a real browser (host suite, UI
// walk, demo) drive the same page. No external fonts or scripts: offline.
const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}main{max-width:340px;margin:48px auto;background:#fff;padding:24px 28px;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.3em;margin-top:0}label{display:block;margin:10px 0 4px}input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px;font-size:1em}button{margin-top:14px;padding:8px 14px;font-size:1em}.error{color:#b00020}code{font-size:1.6em;letter-spacing:.1em}`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export function signInPage(uid: string, clientName: string, error?: string): string {
  return page(
    'Sign in to the test homeserver',
    `<p><strong>${escapeHtml(clientName)}</strong> wants to access your Matrix account.</p>` +
      (error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : '') +
      `<form id="sign-in" method="post" action="/interaction/${escapeHtml(uid)}/login">` +
      `<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" autofocus>` +
      `<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password">` +
      `<button type="submit" id="allow" name="action" value="allow">Sign in and allow</button> ` +
      `<button type="submit" id="deny" name="action" value="deny">Deny</button></form>`,
  );
}

export function deviceInputPage(form: string, error?: string): string {
  // oidc-provider's form has no button of its own; ours submits it.
  return page(
    'Enter the code shown by the application',
    (error ? `<p class="error">${escapeHtml(error)}</p>` : '') +
      form +
      '<button type="submit" id="continue" form="op.deviceInputForm">Continue</button>',
  );
}

export function deviceConfirmPage(form: string, clientName: string, userCode: string): string {
  return page(
    'Confirm the sign-in',
    `<p><strong>${escapeHtml(clientName)}</strong> should show this code:</p><p><code id="user-code">${escapeHtml(userCode)}</code></p>` +
      form +
      `<button type="submit" id="confirm" form="op.deviceConfirmForm">Continue</button> <button type="submit" id="abort" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`,
  );
}

export const deviceSuccessPage = () => page('Signed in', '<p id="done">The application is signed in. You can close this tab.</p>');

export const accountPage = (issuer: string) =>
  page('Your account', `<p id="account">Account management of ${escapeHtml(issuer)} (test server).</p>`);
