// A person's browser, as plain HTTP: follows redirects by hand, keeps cookies,
// fills and submits the authorization server's forms (test/support/oauth/pages.ts
// and oidc-provider's device pages). Unit tests use it where the host suite
// and the UI walk use chromium on the same pages.
export interface SignInAnswer {
  username?: string;
  password?: string;
  /** 'deny' presses Deny on the sign-in page. */
  action?: 'allow' | 'deny';
}

export interface BrowserVisit {
  /** The last URL visited (the loopback callback when the flow reached it). */
  url: string;
  status: number;
  text: string;
}

const MAX_STEPS = 20;

export class TestBrowser {
  private readonly cookies = new Map<string, string>();
  readonly visited: string[] = [];

  /**
   * Opens the authorization URL, signs in (unless already signed in), and
   * follows the redirect back to the loopback listener, whose page it returns.
   */
  async signInThroughRedirect(authorizationUrl: string, answer: SignInAnswer = {}): Promise<BrowserVisit> {
    let visit = await this.go(authorizationUrl);
    if (visit.text.includes('id="sign-in"')) {
      visit = await this.submit(visit, 'sign-in', {
        username: answer.username ?? 'alice',
        password: answer.password ?? 'wonderland',
        action: answer.action ?? 'allow',
      });
    }
    return visit;
  }

  /**
   * Legacy SSO: the homeserver's redirect, its identity-provider picker (the
   * provider named `idpName`, else the first), the provider's sign-in form,
   * then Synapse's "Continue to your account" link back to the loopback listener.
   */
  async signInThroughSso(redirectUrl: string, answer: SignInAnswer & { idpName?: string } = {}): Promise<BrowserVisit> {
    let visit = await this.go(redirectUrl);
    if (visit.text.includes('id="idp-picker"')) {
      const links = [...visit.text.matchAll(/<a class="idp" href="([^"]*)">([^<]*)<\/a>/g)];
      const link = links.find((l) => answer.idpName === undefined || decodeEntities(l[2]) === answer.idpName);
      if (!link) throw new Error(`TestBrowser: no identity provider ${answer.idpName ?? ''} on ${visit.url}`);
      visit = await this.go(new URL(decodeEntities(link[1]), visit.url).toString());
    }
    visit = await this.submit(visit, 'sign-in', { username: answer.username ?? 'alice', password: answer.password ?? 'wonderland' });
    const next = /<a id="continue" href="([^"]*)"/.exec(visit.text);
    if (!next) throw new Error(`TestBrowser: no "Continue" link on ${visit.url} (HTTP ${visit.status}): ${visit.text.slice(0, 300)}`);
    return this.go(new URL(decodeEntities(next[1]), visit.url).toString());
  }

  /** Goes to the verification page, types the code, confirms (or aborts), signs in. */
  async approveDeviceCode(
    verificationUri: string,
    userCode: string,
    answer: SignInAnswer & { abort?: boolean } = {},
  ): Promise<BrowserVisit> {
    // The person types the code, also when given the URI with the code in it (whose page submits itself by script).
    const typed = new URL(verificationUri);
    typed.searchParams.delete('user_code');
    let visit = await this.go(typed.toString());
    visit = await this.submit(visit, 'op.deviceInputForm', { user_code: userCode });
    visit = await this.submit(visit, 'op.deviceConfirmForm', answer.abort ? { abort: 'yes' } : {});
    if (visit.text.includes('id="sign-in"')) {
      visit = await this.submit(visit, 'sign-in', {
        username: answer.username ?? 'alice',
        password: answer.password ?? 'wonderland',
        action: answer.action ?? 'allow',
      });
    }
    return visit;
  }

  /** GET with redirects followed (also the last hop to the loopback listener). */
  async go(url: string, init: { method?: string; body?: string } = {}): Promise<BrowserVisit> {
    let current = url;
    let method = init.method ?? 'GET';
    let body = init.body;
    for (let step = 0; step < MAX_STEPS; step++) {
      this.visited.push(current);
      const headers: Record<string, string> = {};
      const cookie = this.cookieHeader(current);
      if (cookie) headers.Cookie = cookie;
      if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(current, { method, headers, body, redirect: 'manual' });
      this.keepCookies(current, res.headers);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        current = new URL(location, current).toString();
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url: current, status: res.status, text: await res.text() };
    }
    throw new Error(`TestBrowser: more than ${MAX_STEPS} redirects from ${url}`);
  }

  /** Submits the form with this id: its hidden inputs, overridden by `fields`. */
  async submit(visit: BrowserVisit, formId: string, fields: Record<string, string>): Promise<BrowserVisit> {
    const form = new RegExp(`<form[^>]*id="${formId.replace(/\./g, '\\.')}"[^>]*>([\\s\\S]*?)</form>`).exec(visit.text);
    if (!form) throw new Error(`TestBrowser: no form #${formId} on ${visit.url} (HTTP ${visit.status}): ${visit.text.slice(0, 300)}`);
    const action = /action="([^"]*)"/.exec(form[0])?.[1] ?? visit.url;
    const values = new URLSearchParams();
    for (const input of form[1].matchAll(/<input([^>]*)>/g)) {
      const name = /name="([^"]*)"/.exec(input[1])?.[1];
      const value = /value="([^"]*)"/.exec(input[1])?.[1];
      if (name && value !== undefined && /type="hidden"/.test(input[1])) values.set(name, decodeEntities(value));
    }
    for (const [k, v] of Object.entries(fields)) values.set(k, v);
    return this.go(new URL(decodeEntities(action), visit.url).toString(), { method: 'POST', body: values.toString() });
  }

  private cookieHeader(url: string): string {
    const host = new URL(url).host;
    return [...this.cookies.entries()]
      .filter(([k]) => k.startsWith(`${host}\u0000`))
      .map(([k, v]) => `${k.split('\u0000')[1]}=${v}`)
      .join('; ');
  }

  private keepCookies(url: string, headers: Headers): void {
    const host = new URL(url).host;
    for (const line of headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(`${host}\u0000${pair.slice(0, eq).trim()}`, pair.slice(eq + 1).trim());
    }
  }
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}
