/**
 * Reference models of the eviction policies, written the plain way (JS
 * objects in linked lists, a Map from key to node): the benchmark replays
 * traces through them offline to say what hit ratio each policy should
 * reach, and the property tests (test/policy-model.test.ts) check the store
 * against them operation by operation. They share nothing with the store
 * but the frequency sketch, which has tests of its own.
 */
import { hashString } from '../../src/cache/key-hash.js';
import { FrequencySketch } from '../../src/cache/sketch.js';

interface Node {
  key: string;
  list: List;
  prev: Node | undefined;
  next: Node | undefined;
}

/** A recency list: `head` is the most recent. */
class List {
  head: Node | undefined;
  tail: Node | undefined;
  size = 0;
  pushFront(n: Node): void {
    n.list = this;
    n.prev = undefined;
    n.next = this.head;
    if (this.head) this.head.prev = n;
    else this.tail = n;
    this.head = n;
    this.size++;
  }
  unlink(n: Node): void {
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
    this.size--;
  }
  keys(): string[] {
    const out: string[] = [];
    for (let n = this.head; n; n = n.next) out.push(n.key);
    return out;
  }
}

/** A cache model: `read` is a lookup that inserts the key on a miss; returns whether it hit. */
export interface PolicyModel {
  read(key: string): boolean;
  delete(key: string): void;
  /** Keys from first to be kept to first to go. */
  keys(): string[];
  evicted: number;
}

/** Exact LRU of `capacity` keys. */
export class LruModel implements PolicyModel {
  readonly #nodes = new Map<string, Node>();
  readonly #list = new List();
  evicted = 0;
  constructor(readonly capacity: number) {}
  read(key: string): boolean {
    const n = this.#nodes.get(key);
    if (n) {
      this.#list.unlink(n);
      this.#list.pushFront(n);
      return true;
    }
    if (this.capacity === 0) return false;
    while (this.#nodes.size >= this.capacity) {
      this.delete(this.#list.tail!.key);
      this.evicted++;
    }
    const node: Node = { key, list: this.#list, prev: undefined, next: undefined };
    this.#nodes.set(key, node);
    this.#list.pushFront(node);
    return false;
  }
  delete(key: string): void {
    const n = this.#nodes.get(key);
    if (!n) return;
    this.#list.unlink(n);
    this.#nodes.delete(key);
  }
  keys(): string[] {
    return this.#list.keys();
  }
}

/** W-TinyLFU as `src/cache/tinylfu.ts` describes it, over its own lists and the same sketch. */
export class TinyLfuModel implements PolicyModel {
  readonly #nodes = new Map<string, Node>();
  readonly #window = new List();
  readonly #probation = new List();
  readonly #protected = new List();
  readonly #sketch: FrequencySketch;
  readonly #windowMax: number;
  readonly #protectedMax: number;
  #candidates = 0;
  evicted = 0;
  constructor(readonly capacity: number) {
    this.#sketch = new FrequencySketch(capacity);
    this.#windowMax = Math.max(1, Math.floor(capacity / 100));
    this.#protectedMax = Math.floor((capacity - this.#windowMax) * 0.8);
  }
  read(key: string): boolean {
    this.#sketch.increment(hashString(key));
    const n = this.#nodes.get(key);
    if (n) {
      this.#hit(n);
      return true;
    }
    if (this.capacity === 0) return false;
    while (this.#nodes.size >= this.capacity) {
      this.delete(this.#victim().key);
      this.evicted++;
    }
    const node: Node = { key, list: this.#window, prev: undefined, next: undefined };
    this.#nodes.set(key, node);
    this.#window.pushFront(node);
    this.#candidates = 0;
    while (this.#window.size > this.#windowMax) this.#move(this.#window.tail!, this.#probation, true);
    return false;
  }
  delete(key: string): void {
    const n = this.#nodes.get(key);
    if (!n) return;
    n.list.unlink(n);
    this.#nodes.delete(key);
  }
  keys(): string[] {
    return [...this.#window.keys(), ...this.#protected.keys(), ...this.#probation.keys()];
  }
  #hit(n: Node): void {
    if (n.list !== this.#probation) {
      n.list.unlink(n);
      n.list.pushFront(n);
      return;
    }
    this.#move(n, this.#protected, false);
    if (this.#protected.size > this.#protectedMax) this.#move(this.#protected.tail!, this.#probation, false);
  }
  #move(n: Node, to: List, candidate: boolean): void {
    n.list.unlink(n);
    to.pushFront(n);
    if (candidate) this.#candidates++;
  }
  #victim(): Node {
    if (this.#candidates > 0 && this.#probation.size >= 2) {
      this.#candidates--;
      const candidate = this.#probation.head!;
      const victim = this.#probation.tail!;
      return this.#sketch.frequency(hashString(candidate.key)) > this.#sketch.frequency(hashString(victim.key)) ? victim : candidate;
    }
    return this.#probation.tail ?? this.#protected.tail ?? this.#window.tail!;
  }
}

/** A model of `policy` with `capacity` keys. */
export function modelOf(policy: 'lru' | 'tinylfu', capacity: number): PolicyModel {
  return policy === 'lru' ? new LruModel(capacity) : new TinyLfuModel(capacity);
}
