package dev.floe.runtime.tokenizer.jinja;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's failure modes: errors carry the construct and the template line, hostile templates fail instead of
 * exhausting the stack or the heap, and Java values enter as Python's. (Rendering itself is checked against jinja2 by
 * ChatTemplateGoldenTest.)
 */
class TemplateTest {

    private static String render(String template, Map<String, ?> vars) {
        return Template.parse(template).render(vars, Clock.systemUTC());
    }

    @Test
    void parseErrorsNameTheConstructAndLine() {
        var test = assertThrows(TemplateException.Unsupported.class, () -> Template.parse("a\n\n{{ x is frobbed }}"));
        assertEquals(3, test.line());
        assertTrue(test.getMessage().contains("'frobbed'"), test.getMessage());
        var stray = assertThrows(TemplateException.Unsupported.class, () -> Template.parse("x\n{% endfor %}"));
        assertTrue(stray.getMessage().contains("endfor") && stray.line() == 2, stray.getMessage());
        var loose = assertThrows(TemplateException.Unsupported.class, () -> Template.parse("{% break %}"));
        assertTrue(loose.getMessage().contains("outside a for loop"), loose.getMessage());
        var unclosed = assertThrows(TemplateException.Unsupported.class, () -> Template.parse("{{ 'a' \n"));
        assertTrue(unclosed.getMessage().contains("never closed"), unclosed.getMessage());
        var recursive = assertThrows(TemplateException.Unsupported.class,
                () -> Template.parse("{% for x in y recursive %}{% endfor %}"));
        assertTrue(recursive.getMessage().contains("recursive"), recursive.getMessage());
    }

    @Test
    void renderErrorsCarryTheLine() {
        var e = assertThrows(TemplateException.Failed.class, () -> render("{% for m in messages %}\n{{ m.content + 1 }}{% endfor %}",
                Map.of("messages", List.of(Map.of("content", "a")))));
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("can only concatenate str (not \"int\") to str"), e.getMessage());
        var raised = assertThrows(TemplateException.Raised.class, () -> render("\n\n{{ raise_exception('no ' ~ 1) }}", Map.of()));
        assertEquals("no 1", raised.templateMessage());
        assertEquals(3, raised.line());
        var missing = assertThrows(TemplateException.Failed.class, () -> render("\n{{ {}.frob() }}", Map.of()));
        assertTrue(missing.getMessage().contains("'frob' is undefined") && missing.line() == 2, missing.getMessage());
        var method = assertThrows(TemplateException.Unsupported.class, () -> render("\n\n{{ 'x'.translate({}) }}", Map.of()));
        assertTrue(method.getMessage().contains(".translate()") && method.line() == 3, method.getMessage());
    }

    @Test
    void hostileTemplatesFailInsteadOfExhaustingTheMachine() {
        var deep = assertThrows(TemplateException.Failed.class,
                () -> render("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", Map.of()));
        assertTrue(deep.getMessage().contains("recurses too deeply"), deep.getMessage());
        var big = assertThrows(TemplateException.Failed.class, () -> render("{{ 'ab' * 1000000000 }}", Map.of()));
        assertTrue(big.getMessage().contains("repetition"), big.getMessage());
        var overflow = assertThrows(TemplateException.Failed.class, () -> render("{{ 2 ** 64 }}", Map.of()));
        assertTrue(overflow.getMessage().contains("overflow"), overflow.getMessage());
        assertEquals("1", render("{{ 1 ** 1000000000000000000 }}", Map.of()));
        var range = assertThrows(TemplateException.Failed.class, () -> render("{{ range(1000000000) | length }}", Map.of()));
        assertTrue(range.getMessage().contains("range"), range.getMessage());
    }

    @Test
    void javaValuesEnterAsPythonValues() {
        assertEquals("3 2.5 True None ['a', 1] {'k': 'v'}",
                render("{{ i + 1 }} {{ f }} {{ b }} {{ n }} {{ l }} {{ d }}",
                        new java.util.HashMap<>(Map.of("i", 2, "f", 2.5f, "b", true, "l", List.of("a", 1), "d", Map.of("k", "v")))
                        {{ put("n", null); }}));
        var bad = assertThrows(IllegalArgumentException.class, () -> render("{{ x }}", Map.of("x", new Object())));
        assertTrue(bad.getMessage().contains("java.lang.Object"), bad.getMessage());
    }
}
