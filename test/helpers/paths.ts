import * as path from 'node:path';
import { repoRoot } from '../../src/kernel/native';

export const ROOT = repoRoot();
export const CLI = path.join(ROOT, 'bin', 'wirelens.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const TCP_PEER = path.join(FIXTURES, 'tcp-peer.js');
