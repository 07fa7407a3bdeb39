package dev.lstm4j.tools.bench;

import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

/**
 * {@code lstm4j bench --plot FILE}: the medians of a bench run as a picture, drawn with XChart. Two
 * panels, one above the other, a group of bars per row and one bar per backend or peer, both on a log
 * scale: the median time in ms, and the time over LIBTORCH's (below 1 is faster than LibTorch; the panel
 * is left out when LIBTORCH did not run). SVG, or PNG when the file name ends in {@code .png}.
 */
public final class BenchPlot {
    static final int WIDTH = 1200;
    static final int PANEL_HEIGHT = 460;

    private BenchPlot() {
    }

    /**
     * Writes the plot of {@code medians} (row name to backend or peer label to median ms, in the order to
     * draw) to {@code file}.
     *
     * @throws IllegalArgumentException if there is nothing to draw or the file is neither .svg nor .png
     */
    public static void write(Path file, Map<String, Map<String, Double>> medians, String title) throws IOException {
        boolean png = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png");
        if (!png && !file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".svg")) {
            throw new IllegalArgumentException("plot file must end in .svg or .png, got " + file);
        }
        List<CategoryChart> panels = panels(medians, title);
        int height = PANEL_HEIGHT * panels.size();
        if (png) {
            BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = image.createGraphics();
            try {
                g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
                g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                paint(g, panels);
            } finally {
                g.dispose();
            }
            if (!ImageIO.write(image, "png", file.toFile())) {
                throw new IOException("no PNG writer in this JVM");
            }
        } else {
            VectorGraphics2D g = new VectorGraphics2D();
            paint(g, panels);
            ByteArrayOutputStream svg = new ByteArrayOutputStream();
            new SVGProcessor().getDocument(g.getCommands(), new PageSize(0, 0, WIDTH, height)).writeTo(svg);
            Files.writeString(file, withDescription(svg.toString(StandardCharsets.UTF_8), title, medians));
        }
    }

    /**
     * The SVG with a {@code <title>} and a {@code <desc>} holding the numbers drawn: XChart draws its text
     * as outlines, so without them the file would not say in text what it shows (to a screen reader, a
     * search, a test).
     */
    static String withDescription(String svg, String title, Map<String, Map<String, Double>> medians) {
        StringBuilder desc = new StringBuilder("median ms per row and backend or peer, and the ratio to LIBTORCH:");
        medians.forEach((row, m) -> {
            Double ref = m.get("LIBTORCH");
            m.forEach((name, ms) -> desc.append('\n').append(row).append(' ').append(name).append(' ')
                    .append(String.format(Locale.ROOT, "%.4f ms", ms))
                    .append(ref == null ? "" : String.format(Locale.ROOT, ", ratio to LIBTORCH %.3f", ms / ref)));
        });
        int open = svg.indexOf("<svg");
        int end = open < 0 ? -1 : svg.indexOf('>', open);
        if (end < 0) {
            throw new IllegalStateException("VectorGraphics2D wrote no <svg> element");
        }
        return svg.substring(0, end + 1) + "\n<title>" + xml(title) + "</title>\n<desc>" + xml(desc.toString())
                + "</desc>" + svg.substring(end + 1);
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static void paint(Graphics2D g, List<CategoryChart> panels) {
        AffineTransform start = g.getTransform();
        for (int i = 0; i < panels.size(); i++) {
            g.setTransform(start);
            g.translate(0, i * PANEL_HEIGHT);
            panels.get(i).paint(g, WIDTH, PANEL_HEIGHT);
        }
        g.setTransform(start);
    }

    /** The time panel, and the ratio panel where LIBTORCH ran. */
    static List<CategoryChart> panels(Map<String, Map<String, Double>> medians, String title) {
        Set<String> series = new LinkedHashSet<>();
        medians.values().forEach(m -> series.addAll(m.keySet()));
        if (series.isEmpty()) {
            throw new IllegalArgumentException("no medians to plot");
        }
        List<CategoryChart> panels = new ArrayList<>();
        panels.add(panel(title + ": median time per call (log scale)", "median ms", medians, series, false));
        if (series.contains("LIBTORCH")) {
            panels.add(panel("time / LIBTORCH time (log scale; < 1 is faster than LibTorch)", "ratio to LIBTORCH",
                    medians, series, true));
        }
        return panels;
    }

    private static CategoryChart panel(String title, String yTitle, Map<String, Map<String, Double>> medians,
            Set<String> series, boolean ratio) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(PANEL_HEIGHT).title(title)
                .xAxisTitle("row").yAxisTitle(yTitle).build();
        CategoryStyler s = chart.getStyler();
        s.setYAxisLogarithmic(true);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setChartBackgroundColor(Color.WHITE);
        s.setLabelsVisible(true); // each bar's value on it
        s.setLabelsFont(s.getLegendFont().deriveFont(10f));
        s.setLabelsRotation(90);
        s.setDecimalPattern("0.####");
        List<String> rows = new ArrayList<>(medians.keySet());
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (String name : series) {
            List<Double> values = new ArrayList<>();
            for (String row : rows) {
                Double ms = medians.get(row).get(name);
                Double ref = medians.get(row).get("LIBTORCH");
                // A backend or peer that has no time on a row has no bar there.
                values.add(ms == null || ms <= 0 ? null : ratio ? (ref == null ? null : ms / ref) : ms);
            }
            if (values.stream().anyMatch(v -> v != null)) {
                chart.addSeries(name, rows, values);
                for (Double v : values) {
                    if (v != null) {
                        min = Math.min(min, v);
                        max = Math.max(max, v);
                    }
                }
            }
        }
        // Bars start at the axis minimum, which XChart puts at 0 unless told: a log axis needs it set.
        s.setYAxisMin(Math.pow(10, Math.floor(Math.log10(min) - 0.5))); // the shortest bar stays visible
        s.setYAxisMax(Math.pow(10, Math.ceil(Math.log10(max) + 0.3))); // room for the labels on the bars
        return chart;
    }
}
