package dev.floe.tck;

import dev.floe.api.FloeException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The fixtures the kit carries inside its own jar ({@code dev/floe/tck/bundled/}: {@code fixtures/tiny-*},
 * {@code fixtures/fp8-tables.safetensors}, {@code models/arctic-tiny-code}), extracted once into a folder laid out
 * like a Floe checkout, so that a vendor's build with no checkout runs every check. Models are memory-mapped from
 * files, hence the extraction; the folder is reused while the jar is unchanged.
 */
public final class BundledFixtures {
    /** The fixture folders, relative to a checkout or to the extracted folder, in the order they are checked. */
    public static final List<String> FOLDERS = List.of("fixtures/tiny-mixtral", "fixtures/tiny-arctic", "fixtures/tiny-arctic-fp8",
            "fixtures/tiny-arctic-fp8-tensor", "fixtures/tiny-arctic-fp8-block", "fixtures/tiny-arctic-fp8-ct-block",
            "fixtures/rope-linear", "fixtures/rope-dynamic", "fixtures/rope-yarn", "fixtures/rope-llama3", "models/arctic-tiny-code");
    private static final String PREFIX = "dev/floe/tck/bundled/";
    private static Path extracted;

    private BundledFixtures() {
    }

    /** A folder laid out like a checkout holding the bundled fixtures; extracted on first use. */
    public static synchronized Path root() {
        if (extracted == null) extracted = extract();
        return extracted;
    }

    private static Path extract() {
        Path source;
        try {
            source = Path.of(BundledFixtures.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            throw new FloeException("the TCK cannot find its own jar to read its bundled fixtures: " + e);
        }
        try {
            if (Files.isDirectory(source)) {
                Path bundled = source.resolve(PREFIX);
                if (!Files.isDirectory(bundled)) throw new FloeException(source + " holds no " + PREFIX + " (the kit was built without its fixtures)");
                return bundled; // an exploded build (the reactor's target/classes) is already a folder
            }
            Path target = Path.of(System.getProperty("java.io.tmpdir"), "floe-tck-fixtures-" + Tck.VERSION + "-"
                    + Long.toHexString(Files.size(source) * 31 + Files.getLastModifiedTime(source).toMillis()));
            Path done = target.resolve(".complete");
            if (Files.exists(done)) return target;
            Path partial = Files.createTempDirectory(target.getParent(), "floe-tck-fixtures-");
            try (JarFile jar = new JarFile(source.toFile())) {
                for (JarEntry e : jar.stream().filter(e -> e.getName().startsWith(PREFIX) && !e.isDirectory()).toList()) {
                    Path out = partial.resolve(e.getName().substring(PREFIX.length())).normalize();
                    if (!out.startsWith(partial)) continue;
                    Files.createDirectories(out.getParent());
                    try (InputStream in = jar.getInputStream(e)) {
                        Files.copy(in, out);
                    }
                }
            }
            Files.createFile(partial.resolve(".complete"));
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                // another JVM extracted it first: use theirs
                if (!Files.exists(done)) throw raced;
                deleteTree(partial);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("extracting the TCK's bundled fixtures from " + source, e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
