package io.secretrun.process;

import java.util.List;
import java.util.Set;

/**
 * Runs in its own JVM (the Reaper waits for any child, so it must not share a JVM with other tests' processes):
 * spawns {@code sh -c 'exit N'} for every N from 0 to 255, and {@code kill -N $$} for a few signals, through
 * {@link Child} and its {@link Reaper}, and prints every status that is not what a shell would report.
 */
public final class ExitStatusSweepMain {
    public static void main(String[] args) throws Exception {
        int checked = 0;
        StringBuilder wrong = new StringBuilder();
        for (int code = 0; code <= 255; code++) {
            int got = Child.start(List.of("sh", "-c", "exit " + code), Set.of(), false).waitFor();
            if (got != code) {
                wrong.append(" exit ").append(code).append("->").append(got);
            }
            checked++;
        }
        for (int signal : new int[] {1, 2, 3, 6, 9, 10, 12, 13, 14, 15}) {
            int got = Child.start(List.of("sh", "-c", "kill -" + signal + " $$"), Set.of(), false).waitFor();
            if (got != 128 + signal) {
                wrong.append(" signal ").append(signal).append("->").append(got);
            }
            checked++;
        }
        System.out.println(wrong.isEmpty() ? "ok " + checked : "wrong:" + wrong);
    }
}
