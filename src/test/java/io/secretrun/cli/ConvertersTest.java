package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

class ConvertersTest {
    @ParameterizedTest
    @CsvSource({"0,0", "500ms,500", "60s,60000", "60,60000", "5m,300000", "1h,3600000", " 2S ,2000"})
    void durations(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), new Converters.DurationConverter().convert(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "-1s", "1.5s", "10d", "s"})
    void badDurations(String text) {
        assertThrows(TypeConversionException.class, () -> new Converters.DurationConverter().convert(text));
    }

    @ParameterizedTest
    @CsvSource({"1,1", "1000,1000", "1KiB,1024", "1k,1024", "16MiB,16777216", "1MB,1000000", "2GiB,-1"})
    void sizes(String text, long bytes) {
        if (bytes < 0) {
            assertThrows(TypeConversionException.class, () -> new Converters.SizeConverter().convert(text));
        } else {
            assertEquals(bytes, new Converters.SizeConverter().convert(text));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "12XB", "MiB", "-5", "99999999999999999999"})
    void badSizes(String text) {
        assertThrows(TypeConversionException.class, () -> new Converters.SizeConverter().convert(text));
    }

    @ParameterizedTest
    @CsvSource({"true,true", "TRUE,true", "yes,true", "Yes,true", "on,true", "ON,true", "1,true", " 1 ,true",
        "false,false", "False,false", "no,false", "NO,false", "off,false", "0,false", "'',false"})
    void booleansAsUsersWriteThem(String text, boolean value) {
        assertEquals(value, new Converters.BooleanConverter().convert(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"maybe", "2", "-1", "y", "n", "enable", "truee"})
    void badBooleans(String text) {
        TypeConversionException e = assertThrows(TypeConversionException.class,
                () -> new Converters.BooleanConverter().convert(text));
        assertTrue(e.getMessage().contains("'" + text + "' is not a boolean (true/false, yes/no, on/off or 1/0)"),
                e.getMessage());
    }
}
