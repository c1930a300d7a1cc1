/* The floor in bench/window.sh: the least any read-once watcher can do, in C, so that secret-run's window can be
 * shown as a ratio to what this machine allows at all.
 *
 *   window-floor PATH CMD [ARG...]
 *
 * Writes a small file at PATH (or uses the regular file already there), watches it as secret-run's
 * ReadOnceWatcher does for --delete-on open (inotify on the file itself: IN_OPEN plus the "the path changed" events,
 * IN_DONT_FOLLOW, a non-blocking descriptor waited on with poll(2) then drained with read(2)), starts CMD with
 * posix_spawnp(3), and on the first IN_OPEN checks that the name still refers to the watched inode and unlinks it
 * relative to an O_PATH descriptor of its directory, like secret-run. Then it waits for CMD and exits with its status.
 * One thread, no allocation, no logging between the event and the unlink.
 *
 * Prints to stderr, in secret-run's words so that the script reads both the same way:
 *   "window-floor: NAME opened; deleted N µs after the event"   (from read(2) returning to unlinkat(2) returning)
 * If the child exits first, nothing opens the file within TIMEOUT_MS, or the path changes, it is removed anyway and
 * the exit status is 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TIMEOUT_MS 60000
/* What secret-run's watcher asks for with --delete-on open: the trigger plus the events that say the path may no
 * longer name the file (IN_IGNORED, IN_Q_OVERFLOW and IN_UNMOUNT always come). */
#define TRIGGER IN_OPEN
#define SELF_EVENTS (IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

/* The watched file: the directory it is unlinked from, its name there, and which inode it is. */
struct target {
    int dir_fd;
    const char *name;
    dev_t dev;
    ino_t ino;
};

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(70);
}

/* Writes a stand-in secret at path, unless a regular file is there already (then it is used as it is). Closed before
 * the watch starts: our own open and write would otherwise be the first events. */
static void write_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
        return;
    }
    if (fd < 0) {
        die("open PATH");
    }
    static const char secret[] = "db_password: not-a-real-secret\n";
    if (write(fd, secret, sizeof secret - 1) != (ssize_t)(sizeof secret - 1) || close(fd) != 0) {
        die("write PATH");
    }
}

/* Opens path's directory (O_PATH) and records which regular file its last component names. */
static struct target open_target(const char *path) {
    struct target t;
    struct stat st;
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? strdup(".") : slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
    if (dir == NULL) {
        die("strdup");
    }
    t.dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (t.dir_fd < 0) {
        die("open the directory of PATH");
    }
    free(dir);
    t.name = slash == NULL ? path : slash + 1;
    if (fstatat(t.dir_fd, t.name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        die("stat PATH");
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "window-floor: %s is not a regular file\n", path);
        exit(70);
    }
    t.dev = st.st_dev;
    t.ino = st.st_ino;
    return t;
}

/* An inotify descriptor (close-on-exec, non-blocking) watching path for the trigger and the self events. */
static int watch(const char *path) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) {
        die("inotify_init1");
    }
    if (inotify_add_watch(fd, path, TRIGGER | SELF_EVENTS | IN_DONT_FOLLOW) < 0) {
        die("inotify_add_watch");
    }
    return fd;
}

/* Starts argv[0] (searched in PATH) with our environment; its stdout and stderr are ours. */
static pid_t spawn(char **argv) {
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (err != 0) {
        errno = err;
        die("posix_spawnp");
    }
    return pid;
}

/* A descriptor that becomes readable when the child exits (pidfd_open(2), Linux 5.3), or -1 without one: then
 * only TIMEOUT_MS ends a wait for an open that never comes. */
static int exit_fd(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

/* Waits (poll, then read) for the first batch of events that holds the trigger. Returns the CLOCK_MONOTONIC time at
 * which read(2) returned it, as secret-run takes it; or -1 when the child exits first, after TIMEOUT_MS, or on any
 * other event (the path may have changed, or the queue overflowed: secret-run counts that as an open). */
static long await_open(int ifd, int child_fd) {
    /* aligned for struct inotify_event; room for at least one event with the longest name */
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct pollfd p[2] = {{.fd = ifd, .events = POLLIN}, {.fd = child_fd, .events = POLLIN}};
    while (1) {
        ssize_t n = read(ifd, buf, sizeof buf);
        if (n > 0) {
            long t = now_ns();
            for (char *e = buf; e < buf + n; e += sizeof(struct inotify_event) + ((struct inotify_event *)e)->len) {
                uint32_t mask = ((struct inotify_event *)e)->mask;
                if (mask & TRIGGER) {
                    return t;
                }
                fprintf(stderr, "window-floor: event 0x%x before the open\n", mask);
                return -1;
            }
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            die("read inotify");
        }
        int r = poll(p, child_fd < 0 ? 1 : 2, TIMEOUT_MS);
        if (r == 0) {
            fprintf(stderr, "window-floor: not opened within %d ms\n", TIMEOUT_MS);
            return -1;
        }
        if (r < 0 && errno != EINTR) {
            die("poll");
        }
        if (r > 0 && p[1].revents != 0 && p[0].revents == 0) {
            fprintf(stderr, "window-floor: the child exited before opening the file\n");
            return -1;
        }
    }
}

/* Unlinks the name if it still refers to the watched inode (fstatat without following symlinks or opening it,
 * which would itself be an event; secret-run uses statx for the same check). Returns unlinkat's result. */
static int unlink_if_same(const struct target *t) {
    struct stat st;
    if (fstatat(t->dir_fd, t->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return -1;
    }
    if (st.st_dev != t->dev || st.st_ino != t->ino) {
        errno = ESTALE;
        return -1;
    }
    return unlinkat(t->dir_fd, t->name, 0);
}

/* Runs once each call between the event and the unlink, before the app can open the file, as secret-run's watcher
 * warms its path up: otherwise the first, lazily bound calls (the dynamic linker resolving fstatat and unlinkat on
 * first use) and the first touch of their stack and code pages land in the measured window. */
static void warm_up(const struct target *t) {
    struct stat st;
    now_ns();
    fstatat(t->dir_fd, t->name, &st, AT_SYMLINK_NOFOLLOW); /* not an open: no event */
    unlinkat(t->dir_fd, "", 0);                            /* fails with ENOENT */
}

/* Waits for the child and returns its exit status as a shell would (128 + signal when killed). */
static int reap(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            die("waitpid");
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: window-floor PATH CMD [ARG...]\n");
        return 64;
    }
    write_file(argv[1]);
    struct target t = open_target(argv[1]);
    int ifd = watch(argv[1]);
    warm_up(&t);
    pid_t pid = spawn(argv + 2);
    int child_fd = exit_fd(pid);

    long event = await_open(ifd, child_fd);
    if (event < 0) {
        unlink_if_same(&t); /* fail closed: nothing is left behind */
        reap(pid);
        return 1;
    }
    if (unlink_if_same(&t) != 0) {
        die("unlink PATH");
    }
    long ns = now_ns() - event;

    /* ---- the file is gone; everything below may take its time ---- */
    if (ns < 10000) {
        fprintf(stderr, "window-floor: %s opened; deleted %.1f µs after the event\n", t.name, ns / 1000.0);
    } else {
        fprintf(stderr, "window-floor: %s opened; deleted %ld µs after the event\n", t.name, ns / 1000);
    }
    close(ifd);
    close(t.dir_fd);
    return reap(pid);
}
