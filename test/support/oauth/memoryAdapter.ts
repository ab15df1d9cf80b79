// oidc-provider's storage adapter (its documented Adapter interface), kept in
// plain Maps so a test can look inside and break things the way a real
// deployment breaks (a server that forgot its registered clients).
export interface AdapterPayload {
  [key: string]: unknown;
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
}

interface Row {
  payload: AdapterPayload;
}

export class MemoryAdapterStore {
  readonly models = new Map<string, Map<string, Row>>();

  model(name: string): Map<string, Row> {
    let m = this.models.get(name);
    if (!m) this.models.set(name, (m = new Map()));
    return m;
  }

  /** Every registered (dynamic) client is gone: the next use answers `invalid_client`. */
  forgetClients(): void {
    this.model('Client').clear();
  }

  /** An adapter class bound to this store, as oidc-provider's `adapter` option wants it. */
  adapterClass(): new (name: string) => object {
    const rowsOf = (name: string) => this.model(name);
    const models = this.models;
    return class MemoryAdapter {
      private readonly rows: Map<string, Row>;
      constructor(readonly name: string) {
        this.rows = rowsOf(name);
      }
      async upsert(id: string, payload: AdapterPayload): Promise<void> {
        this.rows.set(id, { payload: { ...payload } });
      }
      // Expired rows are kept: oidc-provider checks `exp` itself, and answers
      // `expired_token` for an expired device code only when it still finds it.
      async find(id: string): Promise<AdapterPayload | undefined> {
        const row = this.rows.get(id);
        return row && { ...row.payload };
      }
      async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
        for (const [id, row] of this.rows) if (row.payload.userCode === userCode) return this.find(id);
        return undefined;
      }
      async findByUid(uid: string): Promise<AdapterPayload | undefined> {
        for (const [id, row] of this.rows) if (row.payload.uid === uid) return this.find(id);
        return undefined;
      }
      async consume(id: string): Promise<void> {
        const row = this.rows.get(id);
        if (row) row.payload.consumed = Math.floor(Date.now() / 1000);
      }
      async destroy(id: string): Promise<void> {
        this.rows.delete(id);
      }
      async revokeByGrantId(grantId: string): Promise<void> {
        for (const model of models.values()) {
          for (const [id, row] of model) if (row.payload.grantId === grantId) model.delete(id);
        }
      }
    };
  }
}
