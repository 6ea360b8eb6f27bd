/**
 * BpfObject: one compiled object file (build/bpf/<name>.bpf.o) from open to
 * close. Configure (globals, autoload, map sizes) before load(); attach and
 * read maps after. close() detaches everything it attached.
 */
import { wrapNative } from '../errors';
import { AttachTarget, NativeBpfObject, NativeLink, NativeMapInfo, bpfObjectPath, native } from './native';
import { BpfMap } from './maps';
import { RingBuffer, RecordHandler } from './ringbuf';

export class BpfObject {
  readonly name: string;
  readonly path: string;
  private obj: NativeBpfObject | undefined;
  private readonly links: NativeLink[] = [];
  private readonly rings: RingBuffer[] = [];
  private loaded = false;

  private constructor(name: string, path: string, obj: NativeBpfObject) {
    this.name = name;
    this.path = path;
    this.obj = obj;
  }

  /** Opens build/bpf/<name>.bpf.o. The caller closes it. */
  static open(name: string): BpfObject {
    const path = bpfObjectPath(name);
    const nat = native();
    try {
      return new BpfObject(name, path, new nat.BpfObject(path));
    } catch (e) {
      throw wrapNative(`opening ${name}`, e);
    }
  }

  private get handle(): NativeBpfObject {
    if (!this.obj) throw new Error(`BPF object ${this.name} is closed`);
    return this.obj;
  }

  programs(): string[] {
    return this.handle.programs().map((p) => p.name);
  }

  maps(): NativeMapInfo[] {
    return this.handle.maps();
  }

  setAutoload(program: string, on: boolean): void {
    this.handle.setAutoload(program, on);
  }

  setMaxEntries(map: string, n: number): void {
    this.handle.setMaxEntries(map, n);
  }

  /** Writes a `const volatile` global (in .rodata) or a .data/.bss global before load. */
  setGlobal(variable: string, value: Buffer): void {
    if (this.loaded) throw new Error(`setGlobal(${variable}) after load`);
    this.handle.setGlobal(variable, value);
  }

  load(): void {
    try {
      this.handle.load();
      this.loaded = true;
    } catch (e) {
      throw wrapNative(`loading ${this.name}`, e);
    }
  }

  /** Attaches a program; the link is closed by close() unless closed earlier. */
  attach(program: string, target?: AttachTarget): NativeLink {
    const link = this.handle.attach(program, target ?? { kind: 'auto' });
    this.links.push(link);
    return link;
  }

  map(name: string): BpfMap {
    const info = this.handle.maps().find((m) => m.name === name);
    if (!info) throw new Error(`no map ${name} in ${this.name}`);
    return new BpfMap(info, this.handle.mapFd(name));
  }

  /** A loaded program's fd (owned by the object: valid until close()). */
  progFd(program: string): number {
    return this.handle.progFd(program);
  }

  /** Starts consuming a ring buffer map; onRecord sees each record in place. */
  ringBuffer(name: string, onRecord: RecordHandler, pollMs = 0, onBatchEnd?: () => void): RingBuffer {
    const rb = new RingBuffer(this.handle.mapFd(name), onRecord, pollMs, onBatchEnd);
    this.rings.push(rb);
    return rb;
  }

  /** Closes every link this object attached (idempotent). */
  detach(): void {
    for (const l of this.links.splice(0)) {
      try {
        l.close();
      } catch {
        /* detaching is best effort at shutdown */
      }
    }
  }

  close(): void {
    this.detach();
    for (const rb of this.rings.splice(0)) rb.close();
    this.obj?.close();
    this.obj = undefined;
  }
}
