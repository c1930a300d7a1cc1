package io.secretrun.linux;

/** Runs in its own JVM (see LibcTest): calls the prctl setters that would otherwise change the test JVM. */
public final class LibcSetterMain {
    public static void main(String[] args) throws Exception {
        Libc.prctl(Libc.PR_SET_DUMPABLE, 0);
        int dumpable = Libc.prctl(Libc.PR_GET_DUMPABLE, 0);
        Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1);
        Libc.prctl(Libc.PR_SET_PDEATHSIG, Libc.SIGTERM);
        System.out.println("dumpable=" + dumpable + " subreaper=ok pdeathsig=ok");
    }
}
