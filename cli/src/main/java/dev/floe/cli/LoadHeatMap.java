package dev.floe.cli;

import dev.floe.gating.RoutingTelemetry;

import java.util.List;
import java.util.Locale;

/**
 * Draws the load of every expert in every MoE layer as an SVG heat map, by hand (no library): rows are layers,
 * columns experts, and a cell's colour is the expert's tokens over the layer's mean, so 1.0 is a perfectly even share
 * and layers of different sizes compare directly. The palette is viridis, clamped at twice the mean.
 */
final class LoadHeatMap {
    static final double MAX_RELATIVE_LOAD = 2.0;
    private static final String[] PALETTE = {"#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"};
    private static final int CELL = 34, LEFT = 70, TOP = 64, LEGEND_HEIGHT = 70;

    private LoadHeatMap() {
    }

    /** One heat map: a title over a snapshot's layers. */
    record Panel(String title, RoutingTelemetry.Snapshot snapshot) {
    }

    /** The SVG document for one snapshot. */
    static String svg(RoutingTelemetry.Snapshot snapshot, String title) {
        return svg(List.of(new Panel(title, snapshot)));
    }

    /** The SVG document for several snapshots stacked on one colour scale, for side-by-side comparisons. */
    static String svg(List<Panel> panels) {
        int experts = panels.stream().flatMap(p -> p.snapshot().layers().stream())
                .mapToInt(l -> l.experts().size()).max().orElse(0);
        int width = Math.max(LEFT + experts * CELL + 20, 420);
        int height = LEGEND_HEIGHT;
        for (Panel p : panels) height += panelHeight(p);
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"11\">%n", width, height, width, height));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        int y = 0;
        for (Panel p : panels) {
            s.append(String.format(Locale.ROOT, "<g transform=\"translate(0,%d)\">%n", y));
            panel(s, p, experts);
            s.append("</g>\n");
            y += panelHeight(p);
        }
        legend(s, y + 24);
        s.append("</svg>\n");
        return s.toString();
    }

    private static int panelHeight(Panel p) {
        return TOP + p.snapshot().layers().size() * CELL + 8;
    }

    private static void panel(StringBuilder s, Panel p, int experts) {
        var layers = p.snapshot().layers();
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\">%s</text>%n", LEFT, escape(p.title())));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"38\">load per expert / layer mean (1.0 = even)</text>%n", LEFT));
        for (int e = 0; e < experts; e++) {
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>%n",
                    LEFT + e * CELL + CELL / 2, TOP - 6, e));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555\">expert</text>%n", LEFT - 6, TOP - 6));
        for (int row = 0; row < layers.size(); row++) {
            var layer = layers.get(row);
            int y = TOP + row * CELL;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">layer %d</text>%n",
                    LEFT - 6, y + CELL / 2 + 4, layer.layer()));
            double mean = layer.experts().isEmpty() ? 0 : (double) layer.assignments() / layer.experts().size();
            for (var expert : layer.experts()) {
                double relative = mean == 0 ? 0 : expert.tokens() / mean;
                double t = Math.min(1, relative / MAX_RELATIVE_LOAD);
                int x = LEFT + expert.expert() * CELL;
                s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"white\">"
                                + "<title>layer %d expert %d: %d tokens (%.2f x mean), weight %.1f</title></rect>%n",
                        x, y, CELL, CELL, colour(t), layer.layer(), expert.expert(), expert.tokens(), relative, expert.weightMass()));
                s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"9\" fill=\"%s\">%.2f</text>%n",
                        x + CELL / 2, y + CELL / 2 + 3, t < 0.6 ? "white" : "black", relative));
            }
        }
    }

    private static void legend(StringBuilder s, int y) {
        int x = LEFT, w = 240, h = 12;
        s.append("<defs><linearGradient id=\"scale\">");
        for (int i = 0; i < PALETTE.length; i++) {
            s.append(String.format(Locale.ROOT, "<stop offset=\"%.2f\" stop-color=\"%s\"/>", i / (PALETTE.length - 1.0), PALETTE[i]));
        }
        s.append("</linearGradient></defs>\n");
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#scale)\"/>%n", x, y, w, h));
        for (int i = 0; i <= 4; i++) {
            double value = MAX_RELATIVE_LOAD * i / 4;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s%.1f</text>%n",
                    x + w * i / 4, y + h + 14, i == 4 ? "\u2265" : "", value));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">relative load</text>%n", x + w + 10, y + h - 1));
    }

    /** Linear interpolation through the palette, {@code t} in [0, 1]. */
    static String colour(double t) {
        double pos = Math.clamp(t, 0, 1) * (PALETTE.length - 1);
        int i = Math.min((int) pos, PALETTE.length - 2);
        double f = pos - i;
        int a = Integer.parseInt(PALETTE[i].substring(1), 16), b = Integer.parseInt(PALETTE[i + 1].substring(1), 16);
        int r = mix(a >> 16, b >> 16, f), g = mix(a >> 8, b >> 8, f), bl = mix(a, b, f);
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, g, bl);
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round((a & 0xff) * (1 - f) + (b & 0xff) * f);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
