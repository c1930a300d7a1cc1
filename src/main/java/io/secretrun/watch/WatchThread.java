package io.secretrun.watch;

import io.secretrun.linux.Errno;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Inotify;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one inotify instance and the one platform thread, {@value #THREAD_NAME}, that watch every plaintext of a
 * launch: each {@link ReadOnceWatcher} registers its watch here ({@link #add}) before {@link #start}; the thread then
 * reads the events and routes each, by its watch descriptor, to the watcher that owns it, which decides (and
 * unlinks) in this thread. It is also the timer of every read timeout (poll(2) waits until the nearest one), and it
 * ends once every watcher has decided, closing the descriptors.
 *
 * <p>An event queue overflow (watch descriptor -1) concerns every watcher: each counts it as an open (fail closed).
 * An unexpected error in the thread makes every undecided watcher delete its file.
 *
 * <p><b>Written back.</b> For a watcher registered with {@link #reportRecreated}, once it has deleted its file on a
 * read (or a timeout), the thread also watches the app's path for a file made there again
 * ({@link RecreatedFileWatch}: Redis {@code CONFIG REWRITE}) and logs its WARN; the thread then goes on after the
 * last decision, until the launch's last {@code deleteNow} ({@link #decided}) ends it. Those directory watches are
 * added after the deletion and outside the event-to-unlink path.
 */
public final class WatchThread {
    /** The name of the thread. */
    public static final String THREAD_NAME = ReadOnceWatcher.THREAD_NAME;
    private static final Logger LOG = LoggerFactory.getLogger(WatchThread.class);
    private static final int EVENT_INTS = 1024; // 4 KiB of events
    private static final long READY_MILLIS = 5_000;

    private final Inotify inotify;
    private final List<ReadOnceWatcher> watchers = new ArrayList<>();
    private final int[] events = new int[EVENT_INTS];
    private final CountDownLatch ready = new CountDownLatch(1);
    private final Thread thread;
    /** By watch descriptor, made at {@link #start}: read by the thread only after that. */
    private ReadOnceWatcher[] byWd = new ReadOnceWatcher[0];
    private volatile boolean started;
    private boolean closed;
    /** The thread has read (or is reading) events it has not finished routing. */
    private volatile boolean handling;
    /** Watchers whose app path is watched for a file made again after their deletion; guarded by this. */
    private final Map<ReadOnceWatcher, Path> recreatedCandidates = new LinkedHashMap<>();
    /** The armed watches of those paths (several may share a directory's wd); guarded by this. */
    private final List<RecreatedFileWatch> recreated = new ArrayList<>();
    /** The launch is done with the app: no more watches of written-back files; guarded by this. */
    private boolean recreatedStopped;
    /** Loaded before the thread waits: class loading in the thread costs milliseconds. */
    @SuppressWarnings("unused")
    private static final Class<?> PRELOADED = RecreatedFileWatch.class;

    private WatchThread(Inotify inotify) {
        this.inotify = inotify;
        this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon(true).unstarted(this::run);
    }

    /** A new inotify instance (close-on-exec, non-blocking); the thread starts with {@link #start}. */
    public static WatchThread open() throws ErrnoException {
        return new WatchThread(Inotify.open());
    }

    /** Adds a watch for {@code watcher} (before {@link #start}) and returns its descriptor. */
    synchronized int add(Path path, int mask, ReadOnceWatcher watcher) throws IOException {
        if (started) {
            throw new IllegalStateException("watches are added before the thread starts");
        }
        int wd = inotify.addWatch(path, mask);
        for (ReadOnceWatcher w : watchers) {
            if (w.wd() == wd) {
                inotify.removeWatch(wd);
                throw new IOException(path + " is the same file as another plaintext being watched");
            }
        }
        watchers.add(watcher);
        return wd;
    }

    /**
     * Once {@code watcher} has deleted its file on a read or a timeout while the app runs, watch {@code appPath}
     * (the path the app opens) for a file made there again and warn once (see {@link RecreatedFileWatch}); never
     * deletes it. Call after arming, before {@link #start}.
     */
    public synchronized void reportRecreated(ReadOnceWatcher watcher, Path appPath) {
        recreatedCandidates.put(watcher, appPath.toAbsolutePath());
    }

    /**
     * The app's path is about to be placed again by secret-run itself (a reload): stop reporting a file there as
     * written back by the app.
     */
    public synchronized void forgetRecreated(Path appPath) {
        Path absolute = appPath.toAbsolutePath();
        recreatedCandidates.values().removeIf(absolute::equals);
        recreated.removeIf(w -> w.path().equals(absolute));
    }

    /** Forgets a watcher whose arming failed after {@link #add}. */
    synchronized void forget(ReadOnceWatcher watcher) {
        watchers.remove(watcher);
    }

    /**
     * Starts the thread and returns once it has warmed its event path up and is about to wait: a child started now
     * may open a file within microseconds, and the event must find a thread that is already warm.
     */
    public void start() {
        synchronized (this) {
            if (started) {
                return;
            }
            int max = 0;
            for (ReadOnceWatcher w : watchers) {
                max = Math.max(max, w.wd());
            }
            byWd = new ReadOnceWatcher[max + 1];
            for (ReadOnceWatcher w : watchers) {
                byWd[w.wd()] = w;
            }
            started = true;
        }
        thread.start();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (!ready.await(READY_MILLIS, TimeUnit.MILLISECONDS)) {
                        LOG.warn("the watcher thread took over {} ms to start; starting the app anyway", READY_MILLIS);
                    }
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    Thread thread() {
        return thread;
    }

    int fd() {
        return inotify.fd();
    }

    boolean handling() {
        return handling;
    }

    boolean started() {
        return started;
    }

    /** Ends a watch (the kernel queues IN_IGNORED, which wakes the thread). */
    void removeWatch(int wd) throws ErrnoException {
        inotify.removeWatch(wd);
    }

    /** Whether every watcher has decided. */
    synchronized boolean allDecided() {
        for (ReadOnceWatcher w : watchers) {
            if (!w.isDecided()) {
                return false;
            }
        }
        return true;
    }

    /**
     * A watcher decided outside the thread. If the thread never started (the launch failed before), the last
     * decision closes the descriptors here.
     */
    void decided() {
        if (allDecided()) {
            stopRecreated();
        }
        if (!started && allDecided()) {
            closeAll();
        }
    }

    /**
     * Every watcher has decided and the launch is done (the app exited, or a stop): the watches of written-back
     * files end; removing them queues IN_IGNORED, which wakes the thread so that it ends.
     */
    private synchronized void stopRecreated() {
        if (recreatedStopped) {
            return;
        }
        recreatedStopped = true;
        recreatedCandidates.clear();
        List<Integer> removed = new ArrayList<>();
        for (RecreatedFileWatch w : recreated) {
            if (!removed.contains(w.wd())) {
                removed.add(w.wd());
                try {
                    inotify.removeWatch(w.wd());
                } catch (ErrnoException e) {
                    LOG.debug("removing the watch of {} failed: {}", w.path().getParent(), e.getMessage());
                }
            }
        }
        recreated.clear();
    }

    /**
     * In the thread: for each registered watcher that has now deleted its file on a read or a timeout, watches its
     * app path (and warns at once if a file is there already: one made before the watch causes no event).
     */
    private void armRecreated() {
        List<String> warnings = new ArrayList<>();
        synchronized (this) {
            if (recreatedCandidates.isEmpty() || recreatedStopped) {
                return;
            }
            var it = recreatedCandidates.entrySet().iterator();
            while (it.hasNext()) {
                var entry = it.next();
                Optional<ReadOnceWatcher.Outcome> outcome = entry.getKey().outcome();
                if (outcome.isEmpty()) {
                    continue; // undecided, or decided just now by another thread (then it is an exit or a stop)
                }
                it.remove();
                ReadOnceWatcher.Reason reason = outcome.get().reason();
                boolean deletedWhileRunning = outcome.get().deleted() && switch (reason) {
                    case OPENED, READ, CLOSED, TIMED_OUT -> true;
                    default -> false;
                };
                if (!deletedWhileRunning) {
                    continue;
                }
                try {
                    RecreatedFileWatch watch = arm(entry.getValue());
                    recreated.add(watch);
                    watch.alreadyThere().ifPresent(warnings::add);
                } catch (IOException | RuntimeException e) {
                    LOG.debug("not watching {} for a file written back: {}", entry.getValue(), e.toString());
                }
            }
        }
        warnings.forEach(LOG::warn);
    }

    /**
     * The watch of {@code out}'s directory; through its real path when the directory's path has a symbolic link
     * in last place (the watch does not follow one, and the deletion followed it).
     */
    private RecreatedFileWatch arm(Path out) throws IOException {
        try {
            return RecreatedFileWatch.arm(inotify, out);
        } catch (ErrnoException e) {
            if (e.errno() != Errno.ENOTDIR) {
                throw e;
            }
            return RecreatedFileWatch.arm(inotify, out.getParent().toRealPath().resolve(out.getFileName()));
        }
    }

    /** In the thread: the WARN lines of the written-back files an event batch shows; drops lost watches. */
    private void routeRecreated(int wd, int i, int mask, List<String> warnings) {
        synchronized (this) {
            if (recreated.isEmpty()) {
                return;
            }
            for (RecreatedFileWatch w : recreated) {
                if (wd == -1) {
                    w.alreadyThere().ifPresent(warnings::add); // events were dropped: look instead
                } else if (w.wd() == wd) {
                    w.onEvent(events, i).ifPresent(warnings::add);
                }
            }
            if ((mask & Inotify.IN_IGNORED) != 0) {
                recreated.removeIf(w -> w.wd() == wd); // the directory went away, or stopRecreated removed it
            }
        }
    }

    /** Whether the thread may end: every watcher decided, and no written-back file is watched any more. */
    private synchronized boolean finished(List<ReadOnceWatcher> all) {
        return allDecided(all) && (recreated.isEmpty() || recreatedStopped);
    }

    private void run() {
        ReadOnceWatcher[] routes = byWd;
        List<ReadOnceWatcher> all;
        synchronized (this) {
            all = List.copyOf(watchers);
        }
        try {
            try {
                ReadOnceWatcher.shortTimeSlice();
                for (ReadOnceWatcher w : all) {
                    w.warmUp(events);
                }
            } finally {
                ready.countDown();
            }
            while (true) {
                handling = true; // before the read: from poll to handled, the events are either queued or in hand
                long n = inotify.readOrErrno(events);
                if (n > 0) {
                    long eventNanos = System.nanoTime();
                    route(n, eventNanos, routes, all);
                    armRecreated();
                    if (finished(all)) {
                        return;
                    }
                    continue;
                }
                handling = false;
                if (n == 0) {
                    throw new IOException("read from the inotify descriptor returned 0 bytes");
                }
                int err = (int) -n;
                if (err == Errno.EINTR) {
                    continue;
                }
                if (err != Errno.EAGAIN) {
                    throw new ErrnoException("read", "inotify descriptor", err);
                }
                if (finished(all)) {
                    return; // deleteNow decided; its IN_IGNORED may still be on the way, but nothing is left to do
                }
                long deadline = Long.MAX_VALUE;
                long now = System.nanoTime();
                for (ReadOnceWatcher w : all) {
                    if (!w.isDecided() && w.deadlineNanos() != Long.MAX_VALUE) {
                        if (w.deadlineNanos() - now <= 0) {
                            w.timedOut();
                        } else {
                            deadline = Math.min(deadline, w.deadlineNanos());
                        }
                    }
                }
                armRecreated();
                if (finished(all)) {
                    return;
                }
                int timeoutMillis = deadline == Long.MAX_VALUE ? -1
                        : (int) Math.min(Integer.MAX_VALUE, (deadline - now + 999_999) / 1_000_000);
                int r = inotify.awaitReadableOrErrno(timeoutMillis);
                if (r < 0 && r != -Errno.EINTR) {
                    throw new ErrnoException("poll", "inotify descriptor", -r);
                }
                // readable, timed out (the next round sees the deadline) or EINTR (retry): loop
            }
        } catch (Throwable t) {
            for (ReadOnceWatcher w : all) {
                w.threadFailed(t);
            }
        } finally {
            handling = false;
            closeAll();
        }
    }

    /** Routes the {@code n} bytes of events in {@link #events} to their watchers. */
    private void route(long n, long eventNanos, ReadOnceWatcher[] routes, List<ReadOnceWatcher> all) {
        int ints = (int) (n / 4);
        List<String> warnings = null;
        for (int i = 0; i < ints; i = Inotify.next(events, i)) {
            int wd = Inotify.wd(events, i);
            int mask = Inotify.mask(events, i);
            if (wd == -1) {
                for (ReadOnceWatcher w : all) {
                    w.onEvent(mask, eventNanos); // IN_Q_OVERFLOW: events were dropped, for any of them
                }
            } else if (wd < routes.length && routes[wd] != null) {
                routes[wd].onEvent(mask, eventNanos);
                continue; // a file's watch, never a directory's
            }
            if (warnings == null) {
                warnings = new ArrayList<>(); // only past the read-once events: no allocation on their path
            }
            routeRecreated(wd, i, mask, warnings);
        }
        if (warnings != null) {
            warnings.forEach(LOG::warn); // after every deletion the batch asked for
        }
    }

    private static boolean allDecided(List<ReadOnceWatcher> all) {
        for (ReadOnceWatcher w : all) {
            if (!w.isDecided()) {
                return false;
            }
        }
        return true;
    }

    /** Closes every watcher's directory descriptor (once its decision is complete) and the inotify descriptor. */
    private void closeAll() {
        List<ReadOnceWatcher> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            all = List.copyOf(watchers);
        }
        for (ReadOnceWatcher w : all) {
            w.closeDirectory();
        }
        try {
            inotify.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the inotify descriptor failed: {}", e.toString());
        }
    }
}
