package dev.lstm4j.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** {@link BenchPlot}: a fixed result set drawn as SVG and PNG. */
class BenchPlotTest {
    @TempDir
    Path dir;

    /** Three rows; ORT has no time on the projection row (it cannot run it), DJL none on the first. */
    private static Map<String, Map<String, Double>> results() {
        Map<String, Map<String, Double>> m = new LinkedHashMap<>();
        m.put("stream_b1_t1_h256", new LinkedHashMap<>(Map.of("NATIVE", 0.013, "LIBTORCH", 0.61, "ORT", 0.046)));
        m.put("b64_t128_h256_l2", new LinkedHashMap<>(Map.of("NATIVE", 92.0, "LIBTORCH", 135.0, "DJL", 140.0,
                "ORT", 114.0)));
        m.put("b64_t128_i512_h1024_l2_p256", new LinkedHashMap<>(Map.of("NATIVE", 690.0, "LIBTORCH", 1500.0,
                "DJL", 1550.0)));
        return m;
    }

    @Test
    void svgIsValidAndNamesEveryRowAndBackend() throws Exception {
        Path svg = dir.resolve("bench.svg");
        BenchPlot.write(svg, results(), "test");
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document doc = f.newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getNodeName());
        // XChart draws text as outlines: what the picture shows is in its title and description
        assertEquals("test", doc.getElementsByTagName("title").item(0).getTextContent());
        String desc = doc.getElementsByTagName("desc").item(0).getTextContent();
        for (String name : new String[] {"stream_b1_t1_h256", "b64_t128_h256_l2", "b64_t128_i512_h1024_l2_p256",
            "NATIVE", "LIBTORCH", "DJL", "ORT"}) {
            assertTrue(desc.contains(name), name + " not in " + desc);
        }
        assertTrue(desc.contains("b64_t128_h256_l2 NATIVE 92.0000 ms, ratio to LIBTORCH 0.681"), desc);
        // the drawing itself: many paths (bars, axes, glyphs)
        assertTrue(doc.getElementsByTagName("path").getLength() > 100, "few paths");
    }

    @Test
    void pngHasBothPanels() throws Exception {
        Path png = dir.resolve("bench.png");
        BenchPlot.write(png, results(), "test");
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "not a PNG");
        assertEquals(BenchPlot.WIDTH, image.getWidth());
        assertEquals(2 * BenchPlot.PANEL_HEIGHT, image.getHeight());
        // bars drawn: many pixels are coloured, not white, black or grey
        int coloured = 0;
        for (int y = 0; y < image.getHeight(); y += 7) {
            for (int x = 0; x < image.getWidth(); x += 7) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                int r = rgb >> 16;
                int g = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
                    coloured++;
                }
            }
        }
        assertTrue(coloured > 100, "few coloured pixels: " + coloured);
    }

    @Test
    void withoutLibTorchThereIsOnlyTheTimePanel() throws Exception {
        Path png = dir.resolve("native.png");
        BenchPlot.write(png, Map.of("b1_t128_h256", Map.of("NATIVE", 1.5)), "test");
        assertEquals(BenchPlot.PANEL_HEIGHT, ImageIO.read(png.toFile()).getHeight());
    }

    @Test
    void otherExtensionsAndNothingToPlotAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchPlot.write(dir.resolve("bench.pdf"), results(), "test"));
        assertTrue(e.getMessage().contains("must end in .svg or .png"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BenchPlot.write(dir.resolve("x.svg"), Map.of(), "t"));
        assertFalse(Files.exists(dir.resolve("x.svg")));
    }
}
