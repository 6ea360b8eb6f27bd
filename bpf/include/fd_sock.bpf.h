/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fd -> struct sock for the current task, for hooks that only see a file
 * descriptor (syscall tracepoints). Walks task->files->fdt->fd[fd] and accepts
 * the file only if its inode is a socket.
 */
#ifndef WL_FD_SOCK_BPF_H
#define WL_FD_SOCK_BPF_H

#define WL_S_IFMT 00170000
#define WL_S_IFSOCK 0140000

static __always_inline struct sock *wl_fd_to_sock(long fd)
{
	/* BTF-typed task: the first links are plain loads, not helper calls. */
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;
	unsigned int max;
	umode_t mode;

	if (!files || fd < 0)
		return NULL;
	fdt = files->fdt;
	if (!fdt)
		return NULL;
	max = fdt->max_fds;
	if ((unsigned long)fd >= max)
		return NULL;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & WL_S_IFMT) != WL_S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

#endif /* WL_FD_SOCK_BPF_H */
