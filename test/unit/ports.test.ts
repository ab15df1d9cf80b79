// The one Emitter and the one Disposable base every model uses.
import * as assert from 'node:assert/strict';
import { Disposable, Emitter, setListenerErrorHandler, type DisposableLike } from '../../src/vscode/ports';

describe('Emitter', () => {
  const reported: unknown[] = [];
  beforeEach(() => {
    reported.length = 0;
    setListenerErrorHandler((e) => reported.push(e));
  });
  after(() => setListenerErrorHandler((e) => console.error(e)));

  it('a throwing listener is reported and the later listeners still run', () => {
    const emitter = new Emitter<number>();
    const seen: number[] = [];
    emitter.event(() => {
      throw new Error('first listener broke');
    });
    emitter.event((n) => seen.push(n));
    emitter.fire(7);
    assert.deepEqual(seen, [7]);
    assert.equal(reported.length, 1);
    assert.match(String(reported[0]), /first listener broke/);
  });

  it('a listener whose promise rejects is reported too', async () => {
    const emitter = new Emitter<void>();
    emitter.event(async () => {
      throw new Error('async listener broke');
    });
    emitter.fire();
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(String(reported[0]), /async listener broke/);
  });

  it('a disposed subscription and a disposed emitter call nobody', () => {
    const emitter = new Emitter<number>();
    const seen: number[] = [];
    const sub = emitter.event((n) => seen.push(n));
    emitter.fire(1);
    sub.dispose();
    emitter.fire(2);
    emitter.event((n) => seen.push(n * 10));
    emitter.dispose();
    emitter.fire(3);
    assert.deepEqual(seen, [1]);
  });
});

describe('Disposable', () => {
  class Owner extends Disposable {
    constructor(readonly order: string[]) {
      super();
    }
    own(name: string): DisposableLike {
      return this._register({ dispose: () => this.order.push(name) });
    }
    get disposed(): boolean {
      return this.isDisposed;
    }
  }

  it('disposes what it registered once, newest first, even when one of them throws', () => {
    const order: string[] = [];
    const reported: unknown[] = [];
    setListenerErrorHandler((e) => reported.push(e));
    const owner = new Owner(order);
    owner.own('a');
    owner['_register']({
      dispose: () => {
        throw new Error('b broke');
      },
    });
    owner.own('c');
    owner.dispose();
    owner.dispose();
    assert.deepEqual(order, ['c', 'a']);
    assert.equal(reported.length, 1);
    assert.ok(owner.disposed);
    setListenerErrorHandler((e) => console.error(e));
  });

  it('disposes at once what is registered after it was disposed', () => {
    const order: string[] = [];
    const owner = new Owner(order);
    owner.dispose();
    owner.own('late');
    assert.deepEqual(order, ['late']);
  });
});
