/**
 * The detectors in one pass per interval: two samples in, alert events
 * out. Single-source detectors run first; the target-side ones leave a
 * flood one source makes up to them; the distributed-flood detector speaks
 * only for a surge no other target-side alert explains. Pure: driven by the
 * samples' own clock.
 */
import { GuardSample } from '../../model/guard';
import { AlertBook, AlertEvent, AlertView } from './alerts';
import { DistributedFloodDetector } from './distributed-flood';
import { GuardFrame, buildFrame } from './frame';
import { PortScanDetector } from './port-scan';
import { ProtoFloodDetector } from './proto-flood';
import { SourceFloodDetector } from './source-flood';
import { SynFloodDetector } from './syn-flood';
import { Thresholds } from './thresholds';

export class GuardEngine {
  private prev: GuardSample | undefined;
  private readonly book: AlertBook;
  private readonly syn: SynFloodDetector;
  private readonly scan: PortScanDetector;
  private readonly source: SourceFloodDetector;
  private readonly proto: ProtoFloodDetector;
  private readonly distributed: DistributedFloodDetector;
  /** The last interval's frame, for views that show rates. */
  last: GuardFrame | undefined;

  constructor(t: Thresholds, bucketS: number, idPrefix: string) {
    this.book = new AlertBook(t, idPrefix);
    this.syn = new SynFloodDetector(t);
    this.scan = new PortScanDetector(t, bucketS);
    this.source = new SourceFloodDetector(t, bucketS);
    this.proto = new ProtoFloodDetector(t);
    this.distributed = new DistributedFloodDetector(t);
  }

  step(sample: GuardSample): AlertEvent[] {
    const prev = this.prev;
    this.prev = sample;
    if (!prev) return [];
    const f = buildFrame(prev, sample);
    this.last = f;
    const obs = [...this.source.observe(f), ...this.scan.observe(f)];
    const targeted = [...this.syn.observe(f), ...this.proto.observe(f)];
    obs.push(...targeted, ...this.distributed.observe(f, targeted.length > 0));
    return this.book.step(sample.tNs, obs);
  }

  finish(tNs: number): AlertEvent[] {
    return this.book.finish(tNs);
  }

  active(): AlertView[] {
    return this.book.active();
  }

  get suppressed(): number {
    return this.book.suppressed;
  }

  get baselinePps(): number | undefined {
    return this.distributed.baselinePps;
  }
}
