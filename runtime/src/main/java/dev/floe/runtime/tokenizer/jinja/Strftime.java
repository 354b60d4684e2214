package dev.floe.runtime.tokenizer.jinja;



import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Python's {@code strftime} for the directives chat templates use ({@code strftime_now("%d %b %Y")}). */
final class Strftime {

    private Strftime() {}

    static String format(String pattern, ZonedDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 == pattern.length()) {
                sb.append(c);
                continue;
            }
            char d = pattern.charAt(++i);
            boolean noPad = d == '-' && i + 1 < pattern.length();
            if (noPad) {
                d = pattern.charAt(++i);
            }
            String v = switch (d) {
                case 'Y' -> String.valueOf(t.getYear());
                case 'y' -> "%02d".formatted(t.getYear() % 100);
                case 'm' -> pad(t.getMonthValue(), noPad);
                case 'd' -> pad(t.getDayOfMonth(), noPad);
                case 'H' -> pad(t.getHour(), noPad);
                case 'I' -> pad((t.getHour() + 11) % 12 + 1, noPad);
                case 'M' -> pad(t.getMinute(), noPad);
                case 'S' -> pad(t.getSecond(), noPad);
                case 'j' -> noPad ? String.valueOf(t.getDayOfYear()) : "%03d".formatted(t.getDayOfYear());
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'b' -> DateTimeFormatter.ofPattern("MMM", Locale.ENGLISH).format(t);
                case 'B' -> DateTimeFormatter.ofPattern("MMMM", Locale.ENGLISH).format(t);
                case 'a' -> DateTimeFormatter.ofPattern("EEE", Locale.ENGLISH).format(t);
                case 'A' -> DateTimeFormatter.ofPattern("EEEE", Locale.ENGLISH).format(t);
                case '%' -> "%";
                default -> throw new TemplateException.Unsupported("the strftime directive %" + d, 0);
            };
            sb.append(v);
        }
        return sb.toString();
    }

    private static String pad(int v, boolean noPad) {
        return noPad ? String.valueOf(v) : "%02d".formatted(v);
    }
}
