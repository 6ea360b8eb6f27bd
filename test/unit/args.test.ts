/** The strict flag parser behind every command. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args';
import { LIVE_FLAGS, liveOptions } from '../../src/cli/common-flags';
import { UsageError } from '../../src/errors';
import { readPrivileges } from '../../src/kernel/privileges';

describe('parseArgs', () => {
  it('parses the common live flags', () => {
    const { flags } = parseArgs(
      ['--json', '-c', '5', '--duration=2.5', '--pid', '1,2', '-p', '3', '--port', '80', '--comm', 'curl'],
      LIVE_FLAGS,
    );
    const o = liveOptions(flags);
    assert.equal(o.json, true);
    assert.equal(o.count, 5);
    assert.equal(o.durationS, 2.5);
    assert.deepEqual(o.filters, { pids: [1, 2, 3], comm: 'curl', ports: [80] });
    assert.equal(o.hookMode, 'auto');
  });
  it('numbers in range, written as decimals', () => {
    assert.equal(parseArgs(['--duration', '.5'], LIVE_FLAGS).flags.duration, 0.5);
    assert.equal(parseArgs(['-c', String(2 ** 32)], LIVE_FLAGS).flags.count, 2 ** 32);
  });
  it('short flag with attached value', () => {
    assert.equal(parseArgs(['-c10'], LIVE_FLAGS).flags.count, 10);
  });
  const bad: [string[], RegExp][] = [
    [['--nope'], /unknown flag --nope/],
    [['-z'], /unknown flag -z/],
    [['--port', '65536'], /--port needs a whole number from 1 to 65535 \(got "65536"\)/],
    [['--port', '-1'], /--port needs a whole number from 1 to 65535 \(got "-1"\)/],
    [['-c', '-1'], /^-c needs a whole number from 1 to 2\^32 \(got "-1"\)$/],
    [['--duration', '1e99'], /--duration needs a number from 0.001 to 2000000 \(got "1e99"\)/],
    [['--duration', 'Infinity'], /--duration needs a number from/],
    [['--pid', '0x10'], /--pid needs a whole number from 1 to 4194304/],
    [['--pid', '12x'], /whole number/],
    [['--pid', '1,,2'], /^--pid "1,,2" has an empty item between commas/],
    [['--pid', ''], /^--pid needs a value \(PID\), not an empty one$/],
    // What the user typed is quoted escaped: no control character reaches the terminal.
    [['--pid', '1\x1b[2J'], /^--pid needs a whole number from 1 to 4194304 \(got "1\\x1b\[2J"\)$/],
    [['--duration', 'soon'], /--duration needs a number from 0.001 to 2000000 \(got "soon"\)/],
    [['--json=yes'], /takes no value/],
    [['-c'], /^-c needs a whole number from 1 to 2\^32$/],
    [['--comm', '-x'], /--comm needs a value \(NAME\)/],
    [['--hooks'], /^--hooks needs one of auto, fallback$/],
    [['--pid', '1,2,3,4,5,6,7,8,9'], /at most 8 --pid/],
  ];
  for (const [argv, re] of bad) {
    it(`rejects ${argv.join(' ')}`, () => {
      assert.throws(
        () => liveOptions(parseArgs(argv, LIVE_FLAGS).flags),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
    });
  }
});

describe('readPrivileges', () => {
  const status = (uid: number, cap: string) => `Name:\tx\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nCapEff:\t${cap}\n`;
  it('root with full caps is enough', () =>
    assert.equal(readPrivileges(status(0, '000001ffffffffff')).sufficient, true));
  it('nobody without caps is not, and says what is missing', () => {
    const p = readPrivileges(status(65534, '0000000000000000'));
    assert.equal(p.sufficient, false);
    assert.deepEqual(p.missing, ['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_ADMIN']);
  });
  it('CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN is enough', () => {
    const caps = (1n << 39n) | (1n << 38n) | (1n << 12n);
    assert.equal(readPrivileges(status(1000, caps.toString(16))).sufficient, true);
  });
});
