package io.secretrun.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CiTest {
    @ParameterizedTest(name = "CI={0} -> {1}")
    @CsvSource(nullValues = "null", value = {"null,false", "'',false", "' ',false", "false,false", "FALSE,false",
            "0,false", "true,true", "TRUE,true", "1,true", "yes,true", "github,true"})
    void anyNonEmptyValueButFalseOrZeroMeansCi(String value, boolean expected) {
        assertEquals(expected, Ci.active(value));
    }
}
