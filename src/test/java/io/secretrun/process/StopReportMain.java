package io.secretrun.process;

import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.linux.ProcessCalls.ChildEvent;
import io.secretrun.linux.Spawn;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Set;

/**
 * Runs in its own JVM (it waits for its child itself, so no other waiter may share the process): drives
 * {@link Reaper#clearStopReport} through the three states a stopped process can be in by the time the reaper
 * consumes the stop report it peeked: still stopped, resumed by SIGCONT, resumed and ended. Prints what it got;
 * a blocking wait would hang in the last two (the test's bound then fails it).
 */
public final class StopReportMain {
    public static void main(String[] args) throws Exception {
        StringBuilder out = new StringBuilder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = ProcessCalls.newSiginfo(arena);
            int pid = Spawn.spawn(List.of("sleep", "60"), Spawn.environmentWithout(Set.of()), -1);

            stopAndPeek(pid, info);
            out.append("stopped:").append(describe(Reaper.clearStopReport(pid, info)));
            out.append(" consumed:").append(describe(Reaper.clearStopReport(pid, info)));
            Libc.kill(pid, ProcessCalls.SIGCONT);

            stopAndPeek(pid, info);
            Libc.kill(pid, ProcessCalls.SIGCONT); // resumed between the peek and the clear
            out.append(" resumed:").append(describe(Reaper.clearStopReport(pid, info)));

            stopAndPeek(pid, info);
            Libc.kill(pid, Libc.SIGKILL); // resumed and ended between the peek and the clear
            out.append(" ended:").append(describe(Reaper.clearStopReport(pid, info)));
            ChildEvent exit = ProcessCalls.waitid(ProcessCalls.P_PID, pid, info, ProcessCalls.WEXITED);
            out.append(" reaped:").append(exit == null ? "none" : exit.shellStatus());
        }
        System.out.println(out);
    }

    /** Stops the process and waits until its stop report is there, leaving it in place (as the reaper's peek). */
    private static void stopAndPeek(int pid, MemorySegment info) throws Exception {
        Libc.kill(pid, ProcessCalls.SIGSTOP);
        ChildEvent peek = ProcessCalls.waitid(ProcessCalls.P_PID, pid, info,
                ProcessCalls.WSTOPPED | ProcessCalls.WNOWAIT);
        if (peek == null || !peek.stopped()) {
            throw new IllegalStateException("expected a stop report, got " + peek);
        }
    }

    private static String describe(ChildEvent event) {
        return event == null ? "none" : event.stopped() ? "stop/" + event.status() : "other/" + event.code();
    }
}
