package io.secretrun.testing;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * The one place tests decide between skipping and failing. In CI nothing may skip: a missing tool or platform
 * feature there is a broken CI machine, so it fails. CI counts as set for any non-empty value but "false" and "0"
 * (CI=1, CI=TRUE and CI=yes all count), so a differently spelled value cannot turn failures back into skips.
 */
public final class Ci {
    private Ci() {
    }

    /** True when the CI environment variable is set to anything but empty, "false" or "0". */
    public static boolean active() {
        return active(System.getenv("CI"));
    }

    static boolean active(String value) {
        if (value == null) {
            return false;
        }
        String v = value.strip();
        return !v.isEmpty() && !v.equalsIgnoreCase("false") && !v.equals("0");
    }

    /**
     * Goes on when {@code condition} holds; otherwise skips the test (outside CI) or fails it (in CI), with
     * {@code why} as the message.
     */
    public static void assumeOrFail(boolean condition, String why) {
        if (condition) {
            return;
        }
        if (active()) {
            fail(why + " (CI is set: nothing may be skipped)");
        }
        Assumptions.abort(why);
    }
}
