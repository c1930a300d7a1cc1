package io.secretrun.openpgp;

import org.bouncycastle.openpgp.PGPException;

/**
 * A refusal raised from inside a Bouncy Castle callback (where only {@link PGPException} can pass) whose message
 * is meant for the user: it names what is unsupported or out of bounds, never secret material.
 */
class UnsupportedInput extends PGPException {
    UnsupportedInput(String message) {
        super(message);
    }
}
