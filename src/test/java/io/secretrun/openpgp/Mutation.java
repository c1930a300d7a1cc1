package io.secretrun.openpgp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.bcpg.ArmoredOutputStream;

import io.secretrun.testing.Fuzz;

/**
 * One change to a message, drawn by {@link #random}. Positions are raw ints taken modulo the input's length, so a
 * mutation applies to any input. Armor-only mutations leave binary input alone.
 */
sealed interface Mutation {
    /** {@code armored}: the seed is ASCII armor (binary mutations are then also tried on the decoded bytes). */
    byte[] apply(byte[] in, boolean armored);

    /** Cut the message at a position (keeping at least nothing). */
    record Truncate(int at) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            return Arrays.copyOf(in, in.length == 0 ? 0 : Math.floorMod(at, in.length));
        }
    }

    record FlipBit(int at, int bit) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            if (in.length == 0) {
                return in;
            }
            byte[] out = in.clone();
            out[Math.floorMod(at, in.length)] ^= (byte) (1 << (bit & 7));
            return out;
        }
    }

    record SetByte(int at, byte value) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            if (in.length == 0) {
                return in;
            }
            byte[] out = in.clone();
            out[Math.floorMod(at, in.length)] = value;
            return out;
        }
    }

    record Insert(int at, byte[] bytes) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            int pos = Math.floorMod(at, in.length + 1);
            return concat(Arrays.copyOf(in, pos), bytes, Arrays.copyOfRange(in, pos, in.length));
        }

        @Override
        public String toString() {
            return "Insert[at=" + at + ", bytes=" + Arrays.toString(bytes) + "]";
        }
    }

    record Delete(int at, int length) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            if (in.length == 0) {
                return in;
            }
            int pos = Math.floorMod(at, in.length);
            int end = Math.min(in.length, pos + length);
            return concat(Arrays.copyOf(in, pos), Arrays.copyOfRange(in, end, in.length));
        }
    }

    /** Copies a range of the message to another position (e.g. a second packet after the first). */
    record Duplicate(int from, int length, int to) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            if (in.length == 0) {
                return in;
            }
            int start = Math.floorMod(from, in.length);
            byte[] chunk = Arrays.copyOfRange(in, start, Math.min(in.length, start + length));
            return new Insert(to, chunk).apply(in, armored);
        }
    }

    /** How a packet's length is rewritten. */
    enum LengthForm { FIVE_OCTET, PARTIAL, OLD_FOUR_OCTET, OLD_INDETERMINATE, TWO_OCTET }

    /**
     * Rewrites the length of the n-th top-level packet: huge five-octet lengths, huge partial lengths (2^30), off by
     * a few, old-format forms. {@code value} chooses the number (see {@link #length}).
     */
    record LieLength(int packet, LengthForm form, int value) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            List<Packets.Header> headers = Packets.headers(in);
            if (headers.isEmpty()) {
                return in;
            }
            Packets.Header h = headers.get(Math.floorMod(packet, headers.size()));
            long length = length(h);
            byte[] header = switch (form) {
                case FIVE_OCTET -> new byte[] {(byte) (0xc0 | h.tag()), (byte) 0xff, (byte) (length >>> 24),
                        (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
                case PARTIAL -> new byte[] {(byte) (0xc0 | h.tag()), (byte) (0xe0 | Math.floorMod(value, 31))};
                case OLD_FOUR_OCTET -> h.tag() > 15 ? new byte[] {(byte) (0xc0 | h.tag()), (byte) 0xff,
                        (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length}
                        : new byte[] {(byte) (0x80 | h.tag() << 2 | 2), (byte) (length >>> 24),
                                (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
                case OLD_INDETERMINATE -> h.tag() > 15 ? new byte[] {(byte) (0xc0 | h.tag()), (byte) 0xe0}
                        : new byte[] {(byte) (0x80 | h.tag() << 2 | 3)};
                case TWO_OCTET -> {
                    long l = Math.clamp(length, 192, 8383) - 192;
                    yield new byte[] {(byte) (0xc0 | h.tag()), (byte) (192 + (l >> 8)), (byte) l};
                }
            };
            return concat(Arrays.copyOf(in, h.start()), header, Arrays.copyOfRange(in, h.bodyStart(), in.length));
        }

        private long length(Packets.Header h) {
            return switch (Math.floorMod(value, 8)) {
                case 0 -> 0xFFFFFFFFL;
                case 1 -> 0x7FFFFFFFL;
                case 2 -> 0x7FFFFFF7L;
                case 3 -> h.bodyLength() + 1;
                case 4 -> Math.max(0, h.bodyLength() - 1);
                case 5 -> 0;
                case 6 -> h.bodyLength() * 2 + 100;
                default -> value & 0xFFFFFFFFL;
            } & 0xFFFFFFFFL;
        }
    }

    /** Applies a binary mutation to the bytes inside the armor and armors the result again (valid CRC). */
    record InsideArmor(Mutation binary) implements Mutation {
        public byte[] apply(byte[] in, boolean armored) {
            if (!armored) {
                return binary.apply(in, false);
            }
            byte[] decoded;
            try (InputStream dearmor = ArmoredInputStream.builder().build(new ByteArrayInputStream(in))) {
                decoded = dearmor.readAllBytes();
            } catch (IOException | RuntimeException e) {
                return binary.apply(in, true); // the armor is already broken: mutate it as text
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (ArmoredOutputStream armor = ArmoredOutputStream.builder().clearHeaders().build(out)) {
                armor.write(binary.apply(decoded, false));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return out.toByteArray();
        }
    }

    /** What can be done to the lines of ASCII armor. */
    enum ArmorEdit {
        BAD_BASE64_CHAR, CHANGE_CRC, DROP_CRC, BAD_CRC_LENGTH, DROP_LINE, DUPLICATE_LINE, INSERT_GARBAGE_LINE,
        DROP_END_LINE, WRONG_BEGIN_TYPE, BOGUS_HEADER, NO_BLANK_LINE, CRLF, TRAILING_GARBAGE, LEADING_TEXT
    }

    record Armor(ArmorEdit edit, int at, int pick) implements Mutation {
        private static final String ODD = "!#$%&*-.:=@_~\u00ff\u0000 \t";

        public byte[] apply(byte[] in, boolean armored) {
            if (!armored) {
                return in;
            }
            List<String> lines = new ArrayList<>(Arrays.asList(
                    new String(in, StandardCharsets.ISO_8859_1).split("\n", -1)));
            int n = lines.size();
            int k = Math.floorMod(at, n);
            int crc = indexOfPrefix(lines, "=");
            switch (edit) {
                case BAD_BASE64_CHAR -> {
                    String line = lines.get(k);
                    if (!line.isEmpty()) {
                        int p = Math.floorMod(pick, line.length());
                        lines.set(k, line.substring(0, p) + ODD.charAt(Math.floorMod(pick, ODD.length()))
                                + line.substring(p + 1));
                    }
                }
                case CHANGE_CRC -> {
                    if (crc >= 0 && lines.get(crc).length() > 1) {
                        String line = lines.get(crc);
                        int p = 1 + Math.floorMod(pick, line.length() - 1);
                        char c = line.charAt(p) == 'A' ? 'B' : 'A';
                        lines.set(crc, line.substring(0, p) + c + line.substring(p + 1));
                    }
                }
                case DROP_CRC -> {
                    if (crc >= 0) {
                        lines.remove(crc);
                    }
                }
                case BAD_CRC_LENGTH -> {
                    if (crc >= 0) {
                        lines.set(crc, Math.floorMod(pick, 2) == 0 ? "=AB" : "=ABCDEFGH");
                    }
                }
                case DROP_LINE -> lines.remove(k);
                case DUPLICATE_LINE -> lines.add(k, lines.get(k));
                case INSERT_GARBAGE_LINE -> lines.add(k, Math.floorMod(pick, 3) == 0 ? "-----"
                        : Math.floorMod(pick, 3) == 1 ? "AAAA====AAAA" : "garbage: not base64 at all!");
                case DROP_END_LINE -> {
                    int end = indexOfPrefix(lines, "-----END");
                    if (end >= 0) {
                        lines.subList(end, lines.size()).clear();
                    }
                }
                case WRONG_BEGIN_TYPE -> lines.set(0, Math.floorMod(pick, 2) == 0 ? "-----BEGIN PGP SIGNATURE-----"
                        : "-----BEGIN PGP MESSAGE");
                case BOGUS_HEADER -> lines.add(1, Math.floorMod(pick, 2) == 0 ? "Hash: SHA1" : "no colon here");
                case NO_BLANK_LINE -> {
                    int blank = lines.indexOf("");
                    if (blank >= 0) {
                        lines.remove(blank);
                    }
                }
                case CRLF -> lines.replaceAll(line -> line + "\r");
                case TRAILING_GARBAGE -> lines.add("\u0000\u00ff-----BEGIN PGP MESSAGE-----");
                case LEADING_TEXT -> lines.add(0, "Here is the file:");
            }
            return String.join("\n", lines).getBytes(StandardCharsets.ISO_8859_1);
        }

        private static int indexOfPrefix(List<String> lines, String prefix) {
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith(prefix)) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** A random mutation: binary 6 : armor 2 : binary inside the armor 2. */
    static Mutation random(SplittableRandom r) {
        int kind = r.nextInt(10);
        if (kind < 6) {
            return binary(r);
        }
        if (kind < 8) {
            return new Armor(Fuzz.oneOf(r, ArmorEdit.values()), Fuzz.position(r), Fuzz.position(r));
        }
        return new InsideArmor(binary(r));
    }

    /** Truncate 3, FlipBit 5, SetByte 2, Insert 2, Delete 2, Duplicate 1, LieLength 5. */
    private static Mutation binary(SplittableRandom r) {
        int pick = r.nextInt(20);
        if (pick < 3) {
            return new Truncate(Fuzz.position(r));
        }
        if (pick < 8) {
            return new FlipBit(Fuzz.position(r), Fuzz.between(r, 0, 7));
        }
        if (pick < 10) {
            return new SetByte(Fuzz.position(r), Fuzz.oneOf(r, (byte) 0, (byte) 0xff, (byte) 0x80, (byte) 0x7f,
                    (byte) 0xe0, (byte) 0xc0));
        }
        if (pick < 12) {
            return new Insert(Fuzz.position(r), Fuzz.bytes(r, 1, 16));
        }
        if (pick < 14) {
            return new Delete(Fuzz.position(r), Fuzz.between(r, 1, 64));
        }
        if (pick < 15) {
            return new Duplicate(Fuzz.position(r), Fuzz.between(r, 1, 256), Fuzz.position(r));
        }
        return new LieLength(Fuzz.between(r, 0, 8), Fuzz.oneOf(r, LengthForm.values()), Fuzz.anyInt(r));
    }

    private static byte[] concat(byte[]... parts) {
        return Craft.concat(parts);
    }
}
