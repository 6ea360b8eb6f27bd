/**
 * Compares a TS struct layout with the BTF of a compiled object: size, the
 * set of field names, and every offset. Returns the differences (empty when
 * they agree).
 */
import { native } from '../kernel/native';
import { StructLayout } from './layout';

export function layoutMismatches(layout: StructLayout, objectPath: string): string[] {
  const btf = native().btfStruct(layout.struct, objectPath);
  if (!btf) return [`struct ${layout.struct} not found in the BTF of ${objectPath}`];
  const out: string[] = [];
  if (btf.size !== layout.size) out.push(`${layout.struct}: size ${layout.size} in TS, ${btf.size} in BTF`);
  const inBtf = new Map(btf.members.map((m) => [m.name, m.offset]));
  for (const [name, off] of Object.entries(layout.fields)) {
    const b = inBtf.get(name);
    if (b === undefined) out.push(`${layout.struct}.${name}: in TS, not in BTF`);
    else if (b !== off) out.push(`${layout.struct}.${name}: offset ${off} in TS, ${b} in BTF`);
  }
  for (const name of inBtf.keys()) {
    if (!(name in layout.fields)) out.push(`${layout.struct}.${name}: in BTF, not decoded in TS`);
  }
  return out;
}
