import fs from 'node:fs';

/**
 * A V8 .heapsnapshot read without JSON.parse of the whole file (snapshots of a few hundred MB would
 * need several GB as JS arrays, and a string that size is beyond V8's limit): the file is streamed
 * in chunks, `nodes` and `edges` go straight into typed arrays, `strings` into a string array; the
 * small `snapshot` header is parsed as JSON; other sections are skipped.
 */
export interface HeapSnapshot {
  nodeFieldCount: number;
  edgeFieldCount: number;
  /** Offsets of the fields within one node / edge record (snapshot.meta.node_fields / edge_fields). */
  nf: { type: number; name: number; id: number; selfSize: number; edgeCount: number };
  ef: { type: number; nameOrIndex: number; toNode: number };
  nodeTypes: string[];
  edgeTypes: string[];
  nodes: Float64Array;
  edges: Uint32Array;
  strings: string[];
  nodeCount: number;
  edgeCount: number;
}

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
}

const CHUNK = 8 * 1024 * 1024;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Byte reader over a file, chunk by chunk. */
class Reader {
  buf = Buffer.alloc(0);
  pos = 0;
  private readonly fd: number;

  constructor(file: string) {
    this.fd = fs.openSync(file, 'r');
  }

  /** Next chunk; false at the end of the file. Each chunk is a new buffer (strings may keep slices). */
  fill(): boolean {
    const buf = Buffer.allocUnsafe(CHUNK);
    const n = fs.readSync(this.fd, buf, 0, CHUNK, null);
    this.buf = buf.subarray(0, n);
    this.pos = 0;
    return n > 0;
  }

  /** The next byte that is not whitespace, not consumed; -1 at the end. */
  peek(): number {
    for (;;) {
      while (this.pos < this.buf.length) {
        const c = this.buf[this.pos];
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
        this.pos++;
      }
      if (!this.fill()) return -1;
    }
  }

  expect(ch: string): void {
    const c = this.peek();
    if (c !== ch.charCodeAt(0)) throw new Error(`heap snapshot: expected '${ch}', found ${c < 0 ? 'end of file' : `'${String.fromCharCode(c)}'`}`);
    this.pos++;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** A JSON string starting at the reader's position (the opening quote), decoded. */
function readString(r: Reader): string {
  r.expect('"');
  const parts: Buffer[] = [];
  let escaped = false;
  for (;;) {
    if (r.pos >= r.buf.length && !r.fill()) throw new Error('heap snapshot: end of file inside a string');
    const buf = r.buf;
    const start = r.pos;
    let i = start;
    while (i < buf.length && buf[i] !== QUOTE) {
      if (buf[i] === BACKSLASH) {
        escaped = true;
        i += 2;
      } else {
        i++;
      }
    }
    if (i < buf.length) {
      parts.push(buf.subarray(start, i));
      r.pos = i + 1;
      break;
    }
    if (i === buf.length) {
      parts.push(buf.subarray(start));
      r.pos = buf.length;
      continue;
    }
    // The chunk ends with a backslash whose escaped byte opens the next chunk: carry it over.
    parts.push(buf.subarray(start, buf.length - 1));
    const carry = buf.subarray(buf.length - 1);
    if (!r.fill()) throw new Error('heap snapshot: end of file inside a string');
    r.buf = Buffer.concat([carry, r.buf]);
  }
  const raw = parts.length === 1 ? parts[0].toString('utf8') : Buffer.concat(parts).toString('utf8');
  return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
}

/** `[n, n, ...]` of non-negative integers into `out`; returns how many were read. */
function readNumbers(r: Reader, out: Float64Array | Uint32Array, what: string): number {
  r.expect('[');
  let count = 0;
  let cur = 0;
  let inNumber = false;
  for (;;) {
    if (r.pos >= r.buf.length && !r.fill()) throw new Error(`heap snapshot: end of file inside ${what}`);
    const buf = r.buf;
    for (let i = r.pos; i < buf.length; i++) {
      const c = buf[i];
      if (c >= 0x30 && c <= 0x39) {
        cur = cur * 10 + (c - 0x30);
        inNumber = true;
      } else if (c === 0x2c || c === 0x5d) {
        if (inNumber) {
          if (count >= out.length) throw new Error(`heap snapshot: more ${what} than the header announced`);
          out[count++] = cur;
        }
        cur = 0;
        inNumber = false;
        if (c === 0x5d) {
          r.pos = i + 1;
          return count;
        }
      } else if (c === 0x2d || c === 0x2e) {
        throw new Error(`heap snapshot: unexpected non-integer in ${what}`);
      }
    }
    r.pos = buf.length;
  }
}

function readStrings(r: Reader): string[] {
  r.expect('[');
  const out: string[] = [];
  if (r.peek() === 0x5d) {
    r.pos++;
    return out;
  }
  for (;;) {
    out.push(readString(r));
    const c = r.peek();
    r.pos++;
    if (c === 0x5d) return out;
    if (c !== 0x2c) throw new Error('heap snapshot: malformed strings array');
  }
}

/** Skips one JSON object or array, or returns its text when `keep` (used for the small header only). */
function readValue(r: Reader, keep: boolean): string {
  const first = r.peek();
  if (first !== 0x7b && first !== 0x5b) throw new Error('heap snapshot: expected an object or an array');
  const kept: Buffer[] = [];
  let depth = 0;
  let inString = false;
  let skip = false; // the byte after a backslash, possibly at the start of the next chunk
  for (;;) {
    if (r.pos >= r.buf.length && !r.fill()) throw new Error('heap snapshot: end of file inside a value');
    const buf = r.buf;
    const start = r.pos;
    let end = -1;
    for (let i = start; i < buf.length; i++) {
      const c = buf[i];
      if (skip) skip = false;
      else if (inString) {
        if (c === BACKSLASH) skip = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) {
        end = i + 1;
        break;
      }
    }
    const stop = end < 0 ? buf.length : end;
    if (keep) kept.push(buf.subarray(start, stop));
    r.pos = stop;
    if (end >= 0) return keep ? Buffer.concat(kept).toString('utf8') : '';
  }
}

export function readHeapSnapshot(file: string): HeapSnapshot {
  const r = new Reader(file);
  try {
    let meta: Meta | undefined;
    let nodeCount = 0;
    let edgeCount = 0;
    let nodes: Float64Array | undefined;
    let edges: Uint32Array | undefined;
    let strings: string[] | undefined;
    r.expect('{');
    for (;;) {
      const key = readString(r);
      r.expect(':');
      if (key === 'snapshot') {
        const header = JSON.parse(readValue(r, true)) as { meta: Meta; node_count: number; edge_count: number };
        meta = header.meta;
        nodeCount = header.node_count;
        edgeCount = header.edge_count;
      } else if (key === 'nodes') {
        if (!meta) throw new Error('heap snapshot: nodes before the snapshot header');
        nodes = new Float64Array(nodeCount * meta.node_fields.length);
        const n = readNumbers(r, nodes, 'nodes');
        if (n !== nodes.length) throw new Error(`heap snapshot: ${n} node fields, header announced ${nodes.length}`);
      } else if (key === 'edges') {
        if (!meta) throw new Error('heap snapshot: edges before the snapshot header');
        edges = new Uint32Array(edgeCount * meta.edge_fields.length);
        const n = readNumbers(r, edges, 'edges');
        if (n !== edges.length) throw new Error(`heap snapshot: ${n} edge fields, header announced ${edges.length}`);
      } else if (key === 'strings') {
        strings = readStrings(r);
      } else {
        readValue(r, false);
      }
      const c = r.peek();
      r.pos++;
      if (c === 0x7d || c < 0) break;
      if (c !== 0x2c) throw new Error(`heap snapshot: unexpected '${String.fromCharCode(c)}' after section ${key}`);
    }
    if (!meta || !nodes || !edges || !strings) throw new Error(`${file} is not a complete V8 heap snapshot`);
    const field = (fields: string[], name: string): number => {
      const i = fields.indexOf(name);
      if (i < 0) throw new Error(`heap snapshot: no ${name} field in ${fields.join(',')}`);
      return i;
    };
    return {
      nodeFieldCount: meta.node_fields.length,
      edgeFieldCount: meta.edge_fields.length,
      nf: {
        type: field(meta.node_fields, 'type'),
        name: field(meta.node_fields, 'name'),
        id: field(meta.node_fields, 'id'),
        selfSize: field(meta.node_fields, 'self_size'),
        edgeCount: field(meta.node_fields, 'edge_count'),
      },
      ef: { type: field(meta.edge_fields, 'type'), nameOrIndex: field(meta.edge_fields, 'name_or_index'), toNode: field(meta.edge_fields, 'to_node') },
      nodeTypes: meta.node_types[0],
      edgeTypes: meta.edge_types[0],
      nodes,
      edges,
      strings,
      nodeCount,
      edgeCount,
    };
  } finally {
    r.close();
  }
}

/** The group a node is counted in, as DevTools' summary names it (constructor name for objects). */
export function className(s: HeapSnapshot, node: number): string {
  const base = node * s.nodeFieldCount;
  const type = s.nodeTypes[s.nodes[base + s.nf.type]];
  const name = s.strings[s.nodes[base + s.nf.name]];
  switch (type) {
    case 'object':
    case 'native':
      return name;
    case 'closure':
      return `(closure) ${name || '(anonymous)'}`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'array':
      return name.startsWith('(') ? name : '(array)';
    case 'code':
      return '(compiled code)';
    case 'hidden':
    case 'object shape':
      return '(system)';
    default:
      return `(${type})`;
  }
}

/** Whether a group is a JS constructor or closure (where a leak's retainers say something). */
export function isObjectGroup(name: string): boolean {
  return !name.startsWith('(') || name.startsWith('(closure)');
}

export interface Group {
  count: number;
  selfSize: number;
}

export function groups(s: HeapSnapshot): Map<string, Group> {
  const out = new Map<string, Group>();
  for (let i = 0; i < s.nodeCount; i++) {
    const key = className(s, i);
    let g = out.get(key);
    if (!g) out.set(key, (g = { count: 0, selfSize: 0 }));
    g.count++;
    g.selfSize += s.nodes[i * s.nodeFieldCount + s.nf.selfSize];
  }
  return out;
}

/** Node ids, sorted (ids are stable across snapshots of one process: "is this object new?"). */
export function sortedIds(s: HeapSnapshot): Float64Array {
  const ids = new Float64Array(s.nodeCount);
  for (let i = 0; i < s.nodeCount; i++) ids[i] = s.nodes[i * s.nodeFieldCount + s.nf.id];
  return ids.sort();
}

export function hasId(sorted: Float64Array, id: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] === id) return true;
    if (sorted[mid] < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Shortest retaining paths: one breadth-first search from the root (node 0) over every edge but
 * weak ones. The parent of a node is the edge through which the search reached it first, so walking
 * parents from any node gives a shortest path to the GC roots; that is the path a BFS over the
 * reversed edges from that node would find, computed once for all nodes.
 */
export function shortestRetainers(s: HeapSnapshot): { parentNode: Int32Array; parentEdge: Int32Array } {
  const parentNode = new Int32Array(s.nodeCount).fill(-1);
  const parentEdge = new Int32Array(s.nodeCount).fill(-1);
  const firstEdge = new Uint32Array(s.nodeCount + 1);
  for (let i = 0; i < s.nodeCount; i++) firstEdge[i + 1] = firstEdge[i] + s.nodes[i * s.nodeFieldCount + s.nf.edgeCount];
  const weak = s.edgeTypes.indexOf('weak');
  const queue = new Uint32Array(s.nodeCount);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  parentNode[0] = 0;
  while (head < tail) {
    const from = queue[head++];
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e++) {
      const base = e * s.edgeFieldCount;
      if (s.edges[base + s.ef.type] === weak) continue;
      const to = s.edges[base + s.ef.toNode] / s.nodeFieldCount;
      if (parentNode[to] !== -1) continue;
      parentNode[to] = from;
      parentEdge[to] = e;
      queue[tail++] = to;
    }
  }
  return { parentNode, parentEdge };
}

export function edgeLabel(s: HeapSnapshot, edge: number): string {
  const base = edge * s.edgeFieldCount;
  const type = s.edgeTypes[s.edges[base + s.ef.type]];
  const v = s.edges[base + s.ef.nameOrIndex];
  switch (type) {
    case 'element':
      return `[${v}]`;
    case 'hidden':
      return `{hidden ${v}}`;
    case 'context':
      return `context.${s.strings[v]}`;
    case 'property':
      return `.${s.strings[v]}`;
    case 'internal':
      return `{${s.strings[v]}}`;
    default:
      return `${type} ${s.strings[v] ?? v}`;
  }
}
