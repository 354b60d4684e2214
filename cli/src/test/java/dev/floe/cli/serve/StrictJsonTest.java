package dev.floe.cli.serve;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request bodies: strict UTF-8, one JSON value, no duplicate keys; each rejection a 400 with its code. */
class StrictJsonTest {
    private static ApiError rejected(byte[] body, String code) {
        ApiError e = assertThrows(ApiError.class, () -> StrictJson.parse(body));
        assertEquals(400, e.status);
        assertEquals(code, e.code);
        assertNull(e.param);
        return e;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void wellFormedBodiesParse() {
        assertEquals("h\u00e9 \uD83D\uDE00", StrictJson.parse(utf8("{\"p\":\"h\u00e9 \uD83D\uDE00\"}")).get("p").asText());
        assertEquals(3, StrictJson.parse(utf8(" [1,2,3] \n")).size());
    }

    @Test
    void malformedUtf8IsRejectedNotReplaced() {
        rejected(new byte[]{'{', '"', 'p', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'}, "invalid_utf8"); // overlong '/'
        rejected(new byte[]{'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'}, "invalid_utf8"); // a UTF-16 surrogate
        assertTrue(rejected(new byte[]{'"', (byte) 0xFF, '"'}, "invalid_utf8").getMessage().contains("not valid UTF-8"));
    }

    @Test
    void duplicateKeysTrailingTokensAndEmptyBodiesAreRejected() {
        assertTrue(rejected(utf8("{\"a\":1,\"a\":2}"), "invalid_json").getMessage().contains("not valid JSON"));
        rejected(utf8("{\"a\":{\"b\":1,\"b\":1}}"), "invalid_json");
        rejected(utf8("{\"a\":1} {\"a\":2}"), "invalid_json");
        rejected(utf8("{\"a\":1"), "invalid_json");
        assertTrue(rejected(new byte[0], "invalid_json").getMessage().contains("empty"));
        assertTrue(rejected(utf8("  \n"), "invalid_json").getMessage().contains("empty"));
    }
}
