/* sandbox.c: seccomp allow-lists per process kind, through libseccomp. The
 * default action traps: a SIGSYS handler writes one log line naming the call
 * (async-signal-safe: a fixed buffer and write(2)), then dies of SIGSYS so
 * the master sees and logs the kill. Calls that libc may try before falling
 * back (clone3) fail with ENOSYS instead. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"

/* What every kind may do: memory, time, signals, its own descriptors,
 * sockets it already has or opens to talk to its peers, reading files. */
static const char *const base_calls[] = {"read",
                                         "write",
                                         "readv",
                                         "writev",
                                         "pread64",
                                         "pwrite64",
                                         "preadv",
                                         "pwritev",
                                         "close",
                                         "close_range",
                                         "lseek",
                                         "fstat",
                                         "newfstatat",
                                         "stat",
                                         "lstat",
                                         "statx",
                                         "fstatfs",
                                         "statfs",
                                         "openat",
                                         "open",
                                         "access",
                                         "faccessat",
                                         "faccessat2",
                                         "readlink",
                                         "readlinkat",
                                         "getcwd",
                                         "getdents64",
                                         "mmap",
                                         "munmap",
                                         "mprotect",
                                         "mremap",
                                         "brk",
                                         "madvise",
                                         "rt_sigaction",
                                         "rt_sigprocmask",
                                         "rt_sigreturn",
                                         "rt_sigtimedwait",
                                         "sigaltstack",
                                         "fcntl",
                                         "dup",
                                         "dup2",
                                         "dup3",
                                         "pipe",
                                         "pipe2",
                                         "socket",
                                         "socketpair",
                                         "connect",
                                         "accept",
                                         "accept4",
                                         "sendto",
                                         "recvfrom",
                                         "sendmsg",
                                         "recvmsg",
                                         "sendmmsg",
                                         "recvmmsg",
                                         "shutdown",
                                         "getsockname",
                                         "getpeername",
                                         "getsockopt",
                                         "setsockopt",
                                         "sendfile",
                                         "epoll_create",
                                         "epoll_create1",
                                         "epoll_ctl",
                                         "epoll_wait",
                                         "epoll_pwait",
                                         "epoll_pwait2",
                                         "poll",
                                         "ppoll",
                                         "select",
                                         "pselect6",
                                         "eventfd2",
                                         "timerfd_create",
                                         "timerfd_settime",
                                         "timerfd_gettime",
                                         "signalfd4",
                                         "clock_gettime",
                                         "clock_getres",
                                         "clock_nanosleep",
                                         "nanosleep",
                                         "gettimeofday",
                                         "time",
                                         "alarm",
                                         "setitimer",
                                         "getitimer",
                                         "getpid",
                                         "getppid",
                                         "gettid",
                                         "getuid",
                                         "geteuid",
                                         "getgid",
                                         "getegid",
                                         "getresuid",
                                         "getresgid",
                                         "getgroups",
                                         "getpgrp",
                                         "getsid",
                                         "getrandom",
                                         "futex",
                                         "set_robust_list",
                                         "get_robust_list",
                                         "rseq",
                                         "set_tid_address",
                                         "restart_syscall",
                                         "exit",
                                         "exit_group",
                                         "wait4",
                                         "waitid",
                                         "kill",
                                         "tgkill",
                                         "tkill",
                                         "uname",
                                         "sysinfo",
                                         "sched_yield",
                                         "sched_getaffinity",
                                         "getrusage",
                                         "getrlimit",
                                         "prlimit64",
                                         "umask",
                                         "getpriority",
                                         "arch_prctl",
                                         "prctl",
                                         "flock",
                                         "fsync",
                                         "fdatasync",
                                         NULL};

/* Changing files: everything but the login daemons (empty chroot). */
static const char *const file_calls[] = {"creat",
                                         "unlink",
                                         "unlinkat",
                                         "rename",
                                         "renameat",
                                         "renameat2",
                                         "link",
                                         "linkat",
                                         "mkdir",
                                         "mkdirat",
                                         "rmdir",
                                         "ftruncate",
                                         "truncate",
                                         "fallocate",
                                         "fchmod",
                                         "fchmodat",
                                         "chmod",
                                         "utimensat",
                                         "inotify_init",
                                         "inotify_init1",
                                         "inotify_add_watch",
                                         "inotify_rm_watch",
                                         "chdir",
                                         "fchdir",
                                         NULL};

/* Children: the processes that fork workers or per-connection children. */
static const char *const fork_calls[] = {"clone", "fork", "vfork", NULL};

/* PAM modules may run helpers (unix_chkpwd, pam_exec) and read their
 * capabilities. */
static const char *const exec_calls[] = {"execve", "capget", NULL};

/* The relay binds a source address for its SMTP client sockets; PAM
 * modules in auth bind their own sockets. */
static const char *const bind_calls[] = {"bind", NULL};

#if defined(__SANITIZE_ADDRESS__)
#define LOFT_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOFT_SANITIZER_BUILD 1
#endif
#endif
#ifdef LOFT_SANITIZER_BUILD
/* LeakSanitizer's check at exit stops the world: a clone that lists
 * /proc/self/task with the old getdents and ptraces every thread. Allowed in
 * sanitizer builds only (they never ship), so that the suite runs there with
 * seccomp on; without these the tracer dies and the process spins at exit. */
static const char *const sanitizer_calls[] = {"ptrace", "getdents", "sched_yield", "prctl",
                                              "wait4",  "waitid",   NULL};
#endif

static const unsigned long ioctl_allowed[] = {FIONREAD, FIONBIO, FIOCLEX,
                                              FIONCLEX, TCGETS,  TIOCGWINSZ};

struct kind_spec {
	const char *name;
	bool files, fork, exec, bind;
};

static const struct kind_spec kinds[] = {
    [SANDBOX_NONE] = {"none", false, false, false, false},
    [SANDBOX_LOGIN] = {"login", false, false, false, false},
    [SANDBOX_AUTH] = {"auth", true, true, true, true},
    [SANDBOX_MAILBOX] = {"mailbox", true, false, false, false},
    [SANDBOX_SMTPD] = {"smtpd", true, true, false, false},
    [SANDBOX_QUEUE] = {"queue", true, true, false, false},
    [SANDBOX_RELAY] = {"relay", true, true, false, true},
};

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0]))
		return "unknown";
	return kinds[kind].name;
}

enum sandbox_kind sandbox_kind_for(const struct config *cfg, enum sandbox_kind kind)
{
	return config_bool(cfg, "seccomp") ? kind : SANDBOX_NONE;
}

/* The one line the SIGSYS handler writes, prepared before the filter goes on
 * since the handler may only copy bytes. */
struct violation_line {
	char prefix[64];
	size_t prefix_len;
	int fd;
};
/* The handler gets no argument of ours, so the line lives here; written once
 * before the filter is installed, read-only after. */
static struct violation_line violation;

static size_t put_uint(char *out, unsigned v)
{
	char tmp[12];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char line[200];
	size_t n = violation.prefix_len;
	memcpy(line, violation.prefix, n);
	/* getpid here: a forked child logs its own pid. */
	n += put_uint(line + n, (unsigned)getpid());
	static const char mid[] = "]: seccomp: system call ";
	memcpy(line + n, mid, sizeof(mid) - 1);
	n += sizeof(mid) - 1;
	n += put_uint(line + n, (unsigned)si->si_syscall);
	static const char tail[] = " is outside its filter; exiting\n";
	memcpy(line + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	ssize_t w = write(violation.fd, line, n);
	(void)w;
	/* Die of SIGSYS itself, so the master logs what killed us. */
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGSYS);
	_exit(128 + SIGSYS);
}

static int allow_list(scmp_filter_ctx ctx, const char *const *calls, const char **error_r)
{
	for (; *calls != NULL; calls++) {
		int nr = seccomp_syscall_resolve_name(*calls);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a call on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0) {
			*error_r = *calls;
			return -1;
		}
	}
	return 0;
}

static int build(scmp_filter_ctx ctx, const struct kind_spec *k, const char **error_r)
{
	if (allow_list(ctx, base_calls, error_r) < 0 ||
	    (k->files && allow_list(ctx, file_calls, error_r) < 0) ||
	    (k->fork && allow_list(ctx, fork_calls, error_r) < 0) ||
	    (k->exec && allow_list(ctx, exec_calls, error_r) < 0) ||
	    (k->bind && allow_list(ctx, bind_calls, error_r) < 0))
		return -1;
#ifdef LOFT_SANITIZER_BUILD
	/* the tracer is a clone with CLONE_UNTRACED, which fork() never sets:
	 * a kind without fork still may not fork */
	struct scmp_arg_cmp untraced = {.arg = 0,
	                                .op = SCMP_CMP_MASKED_EQ,
	                                .datum_a = CLONE_UNTRACED,
	                                .datum_b = CLONE_UNTRACED};
	if (allow_list(ctx, sanitizer_calls, error_r) < 0 ||
	    (!k->fork &&
	     seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &untraced) < 0)) {
		*error_r = "sanitizer calls";
		return -1;
	}
#endif
	for (size_t i = 0; i < sizeof(ioctl_allowed) / sizeof(ioctl_allowed[0]); i++) {
		/* Spelled out: SCMP_A1() leaves datum_b to a warning under clang. */
		struct scmp_arg_cmp cmd = {
		    .arg = 1, .op = SCMP_CMP_EQ, .datum_a = ioctl_allowed[i], .datum_b = 0};
		if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &cmd) < 0) {
			*error_r = "ioctl";
			return -1;
		}
	}
	/* glibc tries clone3 first and falls back to clone on ENOSYS. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0) {
		*error_r = "clone3";
		return -1;
	}
	return 0;
}

/* The SIGSYS handler and its log line, before any filter goes on. */
static int install_trap(const char *name, int log_fd, const char **error_r)
{
	/* <3> is the log pipe's error priority (log.h). */
	violation.fd = log_fd;
	violation.prefix_len = 0;
	const char *parts[] = {"<3>", name, "["};
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(parts[i]);
		if (violation.prefix_len + n >= sizeof(violation.prefix))
			n = sizeof(violation.prefix) - 1 - violation.prefix_len;
		memcpy(violation.prefix + violation.prefix_len, parts[i], n);
		violation.prefix_len += n;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		*error_r = "seccomp: cannot install the SIGSYS handler";
		return -1;
	}
	return 0;
}

static int check_kind(enum sandbox_kind kind, const char **error_r)
{
	if ((unsigned)kind >= sizeof(kinds) / sizeof(kinds[0])) {
		*error_r = "seccomp: unknown process kind";
		return -1;
	}
	return 0;
}

int sandbox_enter(enum sandbox_kind kind, const char *name, int log_fd, const char **error_r)
{
	if (kind == SANDBOX_NONE)
		return 0;
	if (check_kind(kind, error_r) < 0 || install_trap(name, log_fd, error_r) < 0)
		return -1;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (ctx == NULL) {
		*error_r = "seccomp: seccomp_init failed";
		return -1;
	}
	const char *which = NULL;
	int rc = build(ctx, &kinds[kind], &which);
	/* The kernel takes a filter from a process without CAP_SYS_ADMIN only
	 * under NO_NEW_PRIVS, which privdrop has set already for every dropped
	 * process; root ones (auth) load without it, so setuid PAM helpers keep
	 * working. */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, geteuid() != 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		*error_r = which != NULL ? "seccomp: cannot add a rule to the filter"
		                         : "seccomp: the kernel refused the filter";
		return -1;
	}
	return 0;
}

int sandbox_prepare(enum sandbox_kind kind, struct sandbox_filter *f, const char **error_r)
{
	memset(f, 0, sizeof(*f));
	if (kind == SANDBOX_NONE)
		return 0;
	if (check_kind(kind, error_r) < 0)
		return -1;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (ctx == NULL) {
		*error_r = "seccomp: seccomp_init failed";
		return -1;
	}
	const char *which = NULL;
	int rc = build(ctx, &kinds[kind], &which);
	/* libseccomp 2.5 exports to a descriptor only */
	int fd = rc == 0 ? memfd_create("loft-seccomp", MFD_CLOEXEC) : -1;
	rc = fd >= 0 ? seccomp_export_bpf(ctx, fd) : -1;
	/* released before the copy is allocated, so the build's many freed
	 * blocks merge instead of lying below a live one */
	seccomp_release(ctx);
	off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
	size_t n = size > 0 ? (size_t)size / sizeof(struct sock_filter) : 0;
	if (n > 0 && n <= BPF_MAXINSNS && (size_t)size % sizeof(struct sock_filter) == 0 &&
	    (f->insns = malloc((size_t)size)) != NULL &&
	    pread(fd, f->insns, (size_t)size, 0) == size) {
		f->len = (unsigned short)n;
		f->kind = kind;
	}
	if (fd >= 0)
		close(fd);
	if (f->kind == SANDBOX_NONE) {
		free(f->insns);
		f->insns = NULL;
		*error_r = which != NULL ? "seccomp: cannot add a rule to the filter"
		                         : "seccomp: cannot export the filter";
		return -1;
	}
	return 0;
}

int sandbox_enter_prepared(const struct sandbox_filter *f, const char *name, int log_fd,
                           const char **error_r)
{
	if (f == NULL || f->kind == SANDBOX_NONE)
		return 0;
	if (install_trap(name, log_fd, error_r) < 0)
		return -1;
	/* as seccomp_load does under SCMP_FLTATR_CTL_NNP (see sandbox_enter) */
	if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*error_r = "seccomp: cannot set NO_NEW_PRIVS";
		return -1;
	}
	struct sock_fprog prog = {.len = f->len, .filter = f->insns};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		*error_r = "seccomp: the kernel refused the filter";
		return -1;
	}
	return 0;
}

void sandbox_filter_free(struct sandbox_filter *f)
{
	free(f->insns);
	memset(f, 0, sizeof(*f));
}
