package io.secretrun.openpgp;

import java.util.ArrayList;
import java.util.List;

/** A lenient walk over a packet sequence's headers (old and new format), for the fuzzers to aim at lengths. */
final class Packets {
    private Packets() {
    }

    /**
     * One header: where it starts, its tag, where the length octets are and how many, the body start and the
     * first (or only) body length; {@code partial} for a new-format partial length.
     */
    record Header(int start, int tag, int lengthStart, int lengthOctets, int bodyStart, long bodyLength,
            boolean partial) {
    }

    /** The top-level headers, as far as they can be parsed; partial bodies are followed chunk by chunk. */
    static List<Header> headers(byte[] data) {
        List<Header> headers = new ArrayList<>();
        int pos = 0;
        while (pos < data.length && headers.size() < 64) {
            int b = data[pos] & 0xff;
            if ((b & 0x80) == 0) {
                break;
            }
            Header h;
            if ((b & 0x40) != 0) {
                h = newFormat(data, pos, b & 0x3f, pos + 1);
            } else {
                h = oldFormat(data, pos, b);
            }
            if (h == null) {
                break;
            }
            headers.add(h);
            long next = h.bodyStart() + h.bodyLength();
            while (h.partial() && next < data.length) { // skip the following chunks
                Header chunk = newFormat(data, (int) next, h.tag(), (int) next);
                if (chunk == null) {
                    return headers;
                }
                next = chunk.bodyStart() + chunk.bodyLength();
                h = chunk;
            }
            if (next > data.length || next <= pos) {
                break;
            }
            pos = (int) next;
        }
        return headers;
    }

    private static Header oldFormat(byte[] data, int pos, int b) {
        int type = b & 3;
        int tag = (b >> 2) & 0xf;
        if (type == 3) {
            return new Header(pos, tag, pos + 1, 0, pos + 1, data.length - pos - 1, false);
        }
        int octets = 1 << type;
        if (pos + 1 + octets > data.length) {
            return null;
        }
        long length = 0;
        for (int i = 0; i < octets; i++) {
            length = (length << 8) | (data[pos + 1 + i] & 0xff);
        }
        return new Header(pos, tag, pos + 1, octets, pos + 1 + octets, length, false);
    }

    /** A new-format length at {@code lengthStart} (for a partial chunk, start == lengthStart). */
    private static Header newFormat(byte[] data, int start, int tag, int lengthStart) {
        if (lengthStart >= data.length) {
            return null;
        }
        int first = data[lengthStart] & 0xff;
        if (first < 192) {
            return new Header(start, tag, lengthStart, 1, lengthStart + 1, first, false);
        }
        if (first < 224) {
            if (lengthStart + 1 >= data.length) {
                return null;
            }
            long length = ((first - 192L) << 8) + (data[lengthStart + 1] & 0xff) + 192;
            return new Header(start, tag, lengthStart, 2, lengthStart + 2, length, false);
        }
        if (first < 255) {
            return new Header(start, tag, lengthStart, 1, lengthStart + 1, 1L << (first & 0x1f), true);
        }
        if (lengthStart + 4 >= data.length) {
            return null;
        }
        long length = 0;
        for (int i = 1; i <= 4; i++) {
            length = (length << 8) | (data[lengthStart + i] & 0xff);
        }
        return new Header(start, tag, lengthStart, 5, lengthStart + 5, length, false);
    }
}
