/* The app in bench/window.sh: waits DELAY_MS (its own start-up), opens PATH, takes CLOCK_MONOTONIC as soon as
 * open(2) returns, then spins on lstat(2) until the path is gone. Prints "window_ns spins bytes_read": window 0 and
 * spins 0 mean the path was already gone at the first check. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: window-reader PATH [DELAY_MS]\n");
        return 64;
    }
    long delay = argc > 2 ? atol(argv[2]) : 0;
    struct timespec d = {delay / 1000, (delay % 1000) * 1000000L}, t0, t1;
    struct stat st;
    char buf[65536];
    nanosleep(&d, NULL);
    int fd = open(argv[1], O_RDONLY);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long spins = 0;
    while (lstat(argv[1], &st) == 0 && spins < 100000000L) {
        spins++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (fd < 0) {
        perror("open");
        return 2;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    long ns = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
    printf("%ld %ld %zd\n", spins ? ns : 0, spins, n);
    return 0;
}
