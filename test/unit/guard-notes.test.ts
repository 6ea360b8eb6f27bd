/**
 * guard's words outside the alert lines: interface names and flag values
 * escaped, the notes about watched interfaces and --allow, and the block
 * and interface events' fields exactly as the README lists them.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlockAction } from '../../src/analysis/detect/block-plan';
import { resolveIface } from '../../src/kernel/tc';
import { parseIp } from '../../src/net/ip-text';
import { guardCommand } from '../../src/cli/guard';
import { Clock } from '../../src/output/clock';
import { blockObject } from '../../src/output/guard-alerts';
import {
  allowAllNote,
  downAtStartNote,
  ifaceChangeNote,
  ifaceEventJson,
  ifaceNames,
} from '../../src/output/guard-notes';

const clock = Clock.at(1_700_000_000);
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

describe('names and values are escaped', () => {
  const evil = 'g\x1b[31mr\x07';
  it('an unknown -i names it escaped, in the message and the remedy', () => {
    assert.throws(
      () => resolveIface(evil),
      (e: Error & { remedy?: string }) => {
        assert.equal(e.message, '-i "g\\x1b[31mr\\x07": no such network interface in this network namespace');
        assert.doesNotMatch(e.message + (e.remedy ?? ''), CONTROL);
        return true;
      },
    );
  });
  it('--allow quotes a bad value escaped', async () => {
    await assert.rejects(guardCommand(['--block', '--allow', '1.2.3.4\x1b[2J']), (e: Error) => {
      assert.match(e.message, /\(got "1\.2\.3\.4\\x1b\[2J"\)$/);
      return true;
    });
  });
  it('notes name interfaces escaped', () => {
    for (const line of [
      ifaceNames(['lo', evil]),
      downAtStartNote(evil),
      ifaceChangeNote(evil, 'down'),
      ifaceChangeNote(evil, 'up'),
      ifaceChangeNote(evil, 'gone'),
      ifaceEventJson(evil, 7, 'gone', clock, 1e9),
      allowAllNote('0.0.0.0/0', 4),
    ])
      assert.doesNotMatch(line, CONTROL, line);
    assert.equal(ifaceNames(['lo', evil]), 'lo, g\\x1b[31mr\\x07');
    assert.deepEqual(Object.keys(JSON.parse(ifaceEventJson('x', 7, 'down', clock, 1e9)) as object), [
      'ts',
      'event',
      'interface',
      'ifindex',
      'state',
    ]);
  });
});

describe('--block events', () => {
  it('carry exactly the fields the README lists for each', () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### `--block`'));
    const listed = (event: string): string[] => {
      const m = new RegExp(`^- \`${event}\`: (.*)$`, 'm').exec(section);
      assert.ok(m, `README lists the fields of ${event}`);
      return [...m[1]!.replace(/\([^)]*\)/g, '').matchAll(/`([a-z_]+)`/g)].map((x) => x[1]!);
    };
    const ip = parseIp('10.0.0.1')!;
    const acts: [string, BlockAction][] = [
      ['block', { op: 'block', address: '10.0.0.1', ip, untilNs: 61e9, alertId: 'a-1', renewed: false }],
      ['unblock', { op: 'unblock', address: '10.0.0.1', ip, reason: 'ttl' }],
      ['not_blocked', { op: 'allowed', address: '10.0.0.1', alertId: 'a-1', prefix: '10.0.0.0/8' }],
      ['not_blocked', { op: 'full', address: '10.0.0.1', alertId: 'a-1' }],
    ];
    for (const [event, a] of acts) {
      const o = blockObject(a, clock, 1e9);
      assert.equal(o.event, event);
      assert.deepEqual(Object.keys(o), listed(event), event);
    }
    assert.deepEqual(listed('interface'), ['ts', 'event', 'interface', 'ifindex', 'state']);
  });
});
