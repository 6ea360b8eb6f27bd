/**
 * `wirelens doctor` as text: one check per line in 80 columns (a long name
 * gets a line of its own, details and remedies wrap under it).
 */
import { escapeTerminal } from '../text/sanitize';
import { displayWidth, wrapText } from './columns';

export type CheckStatus = 'ok' | 'missing' | 'warn' | 'info';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  remedy?: string;
  /** wirelens cannot work at all without it */
  fatal?: boolean;
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', missing: 'MISSING', warn: 'warn', info: 'info' };
/** Columns of the mark, and of the name column (a longer name gets its own line). */
const MARK_W = 8;
const NAME_W = 24;

export function formatReport(checks: Check[], width = 80): string {
  const lines: string[] = [];
  const detailAt = MARK_W + NAME_W + 2;
  for (const c of checks) {
    const mark = MARK[c.status].padEnd(MARK_W);
    const detail = escapeTerminal(c.detail);
    const oneLine = `${mark}${c.name}  ${detail}`;
    if (displayWidth(c.name) > NAME_W && displayWidth(oneLine) <= width) {
      lines.push(oneLine);
    } else if (displayWidth(c.name) <= NAME_W) {
      lines.push(...wrapText(`${mark}${c.name.padEnd(NAME_W)}  `, detail, width, detailAt));
    } else {
      lines.push(...wrapText(mark, c.name, width, MARK_W + 2));
      lines.push(...wrapText(' '.repeat(detailAt), detail, width, detailAt));
    }
    if (c.remedy && c.status !== 'ok') {
      lines.push(...wrapText(`${' '.repeat(MARK_W + 2)}-> `, escapeTerminal(c.remedy), width, MARK_W + 5));
    }
  }
  const fatal = checks.filter((c) => c.fatal && c.status === 'missing');
  lines.push('');
  lines.push(
    fatal.length === 0 ? 'wirelens can run here.' : `wirelens cannot run here: ${fatal.map((c) => c.name).join(', ')}.`,
  );
  return lines.join('\n');
}
