/** doctor's text report: 80 columns whatever the names and details, nothing lost in the wrapping. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Check, formatReport } from '../../src/output/doctor-report';
import { displayWidth } from '../../src/output/columns';

describe('doctor report', () => {
  it('fits 80 columns and keeps every word', () => {
    const checks: Check[] = [
      { name: 'kernel', status: 'info', detail: 'Linux 6.18.44 x64' },
      {
        name: 'top: per-socket counts moved to the tables (iterator over socket storage)',
        status: 'warn',
        detail:
          'not hooked here: iter: load failed: loading BPF object traffic: Operation not permitted; a-very-long-word-' +
          'x'.repeat(120),
        remedy: 'without it: every packet is added to the tables as it passes (costs more per packet)',
      },
      { name: 'tcp --events all: TCP resets sent', status: 'ok', detail: 'via tp_btf' },
      { name: 'hook kprobe', status: 'warn', detail: 'kprobes: not available here; built without CONFIG_KPROBES' },
    ];
    const text = formatReport(checks);
    for (const l of text.split('\n')) assert.ok(displayWidth(l) <= 80, `${displayWidth(l)}: ${l}`);
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    const flat = words(text).join(' ');
    for (const c of checks) {
      for (const w of words(c.detail).filter((x) => x.length < 60)) assert.ok(flat.includes(w), `kept ${w}`);
    }
    assert.match(text, /^ok {6}tcp --events all: TCP resets sent {2}via tp_btf$/m, 'a short pair stays on one line');
    assert.match(text, /^warn {4}top: per-socket counts/m);
    assert.match(text, /wirelens can run here\.$/);
  });
});
