/**
 * Hook slots of bpf/include/sk_owner.bpf.h, for every object that names a
 * socket's process from socket storage (traffic, dns, tls): the socket()
 * hook on the root cgroup, and the read/write hooks that move a socket to
 * the process using it.
 */
import { AttachTarget } from '../kernel/native';
import { HookSlot } from '../kernel/hooks';

export function ownerSlots(cgroup: AttachTarget): HookSlot[] {
  return [
    {
      slot: 'socket owners at socket()',
      required: false,
      degraded: "packets of sockets made before start are someone's only once a process reads or writes them",
      candidates: [{ kind: 'cgroup', programs: ['wl_owner_create'], target: cgroup }],
    },
    {
      slot: 'socket owners at read/write',
      required: false,
      degraded: 'a socket stays with the process that made it (or its listener), even when another process uses it',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_owner_send', 'wl_owner_recv'] },
        { kind: 'fentry', programs: ['wl_owner_send_fentry', 'wl_owner_recv_fentry'] },
      ],
    },
  ];
}
