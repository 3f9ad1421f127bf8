/** A value kept in one of the maps of an `LruMaps`; the recency list is threaded through it. */
export interface LruNode {
  readonly key: string;
  /** The map holding this node (several maps share one bound). */
  readonly owner: Map<string, LruNode>;
  prev: LruNode | undefined;
  next: LruNode | undefined;
}

/**
 * Several Maps bounded together to `max` entries: beyond it the least recently used entry, in
 * whichever map, is dropped. The recency order is a doubly linked list threaded through the
 * values themselves, so a hit costs one hash lookup and a few pointer moves (no allocation),
 * which matters on the per-request path.
 */
export class LruMaps<T extends LruNode> {
  private count = 0;
  /** Least recently used. */
  private head: T | undefined;
  /** Most recently used. */
  private tail: T | undefined;
  private readonly maps: Map<string, T>[] = [];

  constructor(private readonly max: number) {
    if (!(max >= 1)) throw new TypeError('LruMaps max must be at least 1');
  }

  /** Entries in all the maps. */
  get size(): number {
    return this.count;
  }

  /** A new map under this bound; add to it and read it only through `add`/`get`/`delete`. */
  map(): Map<string, T> {
    const map = new Map<string, T>();
    this.maps.push(map);
    return map;
  }

  /** The value for `key` in `map`, now the most recently used. */
  get(map: Map<string, T>, key: string): T | undefined {
    const node = map.get(key);
    if (node !== undefined && node !== this.tail) {
      this.unlink(node);
      this.append(node);
    }
    return node;
  }

  /** Adds `node` to its owner under `node.key` (replacing any value), dropping the LRU one if full. */
  add(node: T): void {
    const map = node.owner as Map<string, T>;
    const previous = map.get(node.key);
    if (previous !== undefined) {
      this.unlink(previous);
      this.count--;
    } else if (this.count >= this.max && this.head !== undefined) {
      const oldest = this.head;
      this.unlink(oldest);
      oldest.owner.delete(oldest.key);
      this.count--;
    }
    map.set(node.key, node);
    this.append(node);
    this.count++;
  }

  delete(map: Map<string, T>, key: string): void {
    const node = map.get(key);
    if (node === undefined) return;
    this.unlink(node);
    map.delete(key);
    this.count--;
  }

  clear(): void {
    for (const map of this.maps) map.clear();
    this.head = undefined;
    this.tail = undefined;
    this.count = 0;
  }

  private unlink(node: T): void {
    const { prev, next } = node;
    if (prev === undefined) this.head = next as T | undefined;
    else prev.next = next;
    if (next === undefined) this.tail = prev as T | undefined;
    else next.prev = prev;
    node.prev = undefined;
    node.next = undefined;
  }

  private append(node: T): void {
    node.prev = this.tail;
    if (this.tail === undefined) this.head = node;
    else this.tail.next = node;
    this.tail = node;
  }
}
