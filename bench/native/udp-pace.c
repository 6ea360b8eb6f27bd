/*
 * udp-pace: a steady loopback UDP sender for the capture bench.
 *
 *   udp-pace COUNT LENGTH RATE
 *
 * Sends COUNT datagrams of LENGTH bytes (at most 2048) to its own socket on 127.0.0.1 at
 * RATE datagrams a second (a batch every millisecond with sendmmsg, on an
 * absolute clock), and reads them back (recvmmsg) in the same process. On
 * loopback the whole receive path runs in the sending task, so the process's
 * CPU time holds everything the kernel does per packet: the stack, the taps
 * (AF_PACKET) and BPF programs. Its own loop does the same fixed work per
 * packet, unlike iperf3's paced loop, so that CPU time varies little from run
 * to run. Prints one JSON line: sent, received, user and system seconds.
 *
 * The receive path's softirq time is the task's only on kernels without
 * CONFIG_IRQ_TIME_ACCOUNTING (as the development VM's), and only while
 * ksoftirqd does not take over; the bench says so with its figures.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256

static struct mmsghdr out[BATCH], in[BATCH];
static struct iovec outv[BATCH], inv[BATCH];
static char payload[2048], inbuf[BATCH][2048];

static long long drain(int fd)
{
	long long got = 0;
	for (;;) {
		int n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return got;
		got += n;
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: udp-pace COUNT LENGTH RATE\n");
		return 2;
	}
	long long count = atoll(argv[1]);
	int length = atoi(argv[2]);
	long long rate = atoll(argv[3]);
	if (count <= 0 || length <= 0 || length > (int)sizeof(payload) || rate <= 0) {
		fprintf(stderr, "udp-pace: bad arguments\n");
		return 2;
	}
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int big = 8 << 20;
	/* A receive buffer that holds a catch-up batch: FORCE as root, past rmem_max. */
	if (rx >= 0 && setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (rx < 0 || tx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(rx, (struct sockaddr *)&a, &alen) || connect(tx, (struct sockaddr *)&a, sizeof(a))) {
		perror("udp-pace: socket");
		return 1;
	}
	memset(payload, 'x', (size_t)length);
	for (int i = 0; i < BATCH; i++) {
		outv[i] = (struct iovec){payload, (size_t)length};
		out[i].msg_hdr = (struct msghdr){.msg_iov = &outv[i], .msg_iovlen = 1};
		inv[i] = (struct iovec){inbuf[i], sizeof(inbuf[i])};
		in[i].msg_hdr = (struct msghdr){.msg_iov = &inv[i], .msg_iovlen = 1};
	}
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	long long sent = 0, received = 0, ticks = 0;
	while (sent < count) {
		/* Datagrams due by the end of this millisecond. */
		ticks++;
		long long due = rate * ticks / 1000;
		if (due > count)
			due = count;
		while (sent < due) {
			int want = due - sent > BATCH ? BATCH : (int)(due - sent);
			int n = sendmmsg(tx, out, (unsigned)want, 0);
			if (n < 0) {
				if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) {
					/* Room comes from reading: no spinning on a full queue. */
					received += drain(rx);
					continue;
				}
				perror("udp-pace: sendmmsg");
				return 1;
			}
			sent += n;
			received += drain(rx);
		}
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	received += drain(rx);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"sent\":%lld,\"received\":%lld,\"user\":%.6f,\"system\":%.6f}\n", sent, received,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return 0;
}
