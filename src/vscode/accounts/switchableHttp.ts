import { HttpClient, HttpResponse, RequestOptions } from '../../core/http';

/**
 * An HttpClient whose settings can change (timeout, insecure HTTP) without
 * replacing the objects that hold it: the TokenRotator keeps its single-flight
 * state for the whole session, so it must not be recreated on a settings change.
 */
export class SwitchableHttpClient extends HttpClient {
  constructor(private current: HttpClient) {
    super();
  }

  switchTo(client: HttpClient): void {
    this.current = client;
  }

  override get allowsInsecureHttp(): boolean {
    return this.current.allowsInsecureHttp;
  }

  override request<T = Record<string, unknown>>(baseUrl: string, path: string, opts?: RequestOptions): Promise<HttpResponse<T>> {
    return this.current.request<T>(baseUrl, path, opts);
  }
}
