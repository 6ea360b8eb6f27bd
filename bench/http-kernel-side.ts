/**
 * `wirelens http`'s kernel side alone, for the bench: the same programs in
 * the same records mode, the same ring and the same decode of each record,
 * then nothing (no exchange, no view, no line, no table). What this costs is
 * the floor under `wirelens http` whatever its user space does per record.
 * Run as its own process, as the CLI is: `node dist/bench/http-kernel-side.js -v`.
 */
import { HTTP_FLAGS } from '../src/cli/http';
import { LiveTool, runLive } from '../src/cli/live';
import { liveOptions, parseLiveArgs } from '../src/cli/common-flags';
import { startHttpCapture } from '../src/probes/http-capture';

function kernelSide(): LiveTool<never> {
  return {
    name: 'http',
    // Each record is decoded, then dropped; the ring counts them (-v: "kernel: N emitted, N received").
    start: (opts, features, _emit, onBad) =>
      startHttpCapture(
        { filters: opts.filters, http: {}, hookMode: opts.hookMode, features, mode: 'lines' },
        () => undefined,
        onBad,
      ),
    header: () => '',
    human: () => '',
    json: () => '',
  };
}

async function main(): Promise<number> {
  try {
    const flags = parseLiveArgs(process.argv.slice(2), HTTP_FLAGS, 'bench: http kernel side');
    return flags ? await runLive(kernelSide(), liveOptions(flags)) : 0;
  } catch (e) {
    process.stderr.write(`http-kernel-side: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
