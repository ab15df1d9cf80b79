import type { HttpClient, HttpRequester, HttpResponse, RequestOptions } from '../../core/http';

/**
 * An HTTP client whose settings can change (timeout, insecure HTTP) without
 * replacing the objects that hold it: the TokenRotator keeps its single-flight
 * state for the whole session, so it must not be recreated on a settings change.
 */
export class SwitchableHttpClient implements HttpRequester {
  constructor(private current: HttpClient) {}

  switchTo(client: HttpClient): void {
    this.current = client;
  }

  get allowsInsecureHttp(): boolean {
    return this.current.allowsInsecureHttp;
  }

  request<T = Record<string, unknown>>(baseUrl: string, path: string, opts?: RequestOptions): Promise<HttpResponse<T>> {
    return this.current.request<T>(baseUrl, path, opts);
  }
}
