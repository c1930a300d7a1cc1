/**
 * Linux system calls through the FFM API ({@code java.lang.foreign}): the one place where secret-run calls the C
 * library. {@link io.secretrun.linux.Libc} holds the general calls (read, close, unlink, poll, getpid, kill, prctl,
 * statfs, isatty, strerror), {@link io.secretrun.linux.Inotify} the inotify(7) queue. Failures are
 * {@link io.secretrun.linux.ErrnoException}s naming the call, its subject and the errno.
 *
 * <p>The JVM needs {@code --enable-native-access=ALL-UNNAMED} (the jar's manifest and the launcher set it).
 */
package io.secretrun.linux;
