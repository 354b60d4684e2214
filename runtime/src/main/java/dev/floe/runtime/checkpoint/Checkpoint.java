package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.TensorSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The tensors of a checkpoint folder: one {@code model.safetensors}, shards listed by
 * {@code model.safetensors.index.json}, or every {@code *.safetensors} file of the folder. Files are memory-mapped;
 * nothing is read until a tensor's data is touched. A quantised weight {@code X.weight} comes with its scale attached:
 * {@code X.weight_scale} (Floe, compressed-tensors) or {@code X.weight_scale_inv} (DeepSeek-V3 and Qwen3 FP8 block
 * grids, which multiply despite the name); {@link dev.floe.spi.ScaleLayout} says how it maps onto the weight.
 */
public final class Checkpoint implements TensorSource, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The names a weight's scale goes by, after the weight's own name, in order of preference. */
    private static final List<String> SCALE_SUFFIXES = List.of("_scale", "_scale_inv");

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private Checkpoint(Path dir, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.dir = dir;
        this.files = files;
        this.byTensor = byTensor;
    }

    /** Opens the safetensors files of a folder. */
    public static Checkpoint open(Path dir) {
        Shards shards = Shards.of(dir);
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Path p : shards.paths()) {
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (String name : f.names()) {
                    SafetensorsFile previous = byTensor.putIfAbsent(name, f);
                    shards.checkUnique(name, previous == null ? null : previous.path(), p);
                }
            }
            shards.checkIndex(byTensor.keySet(), name -> byTensor.get(name).path());
            return new Checkpoint(dir, List.copyOf(files), byTensor);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /**
     * The headers of every tensor of a folder, found as {@link #open} finds them and validated the same way, without
     * mapping or reading any tensor data: what {@code floe inspect} and {@code floe plan} need, on a checkpoint of any
     * size (its data may even be holes of a sparse file).
     */
    public static List<SafetensorsHeader> headers(Path dir) {
        Shards shards = Shards.of(dir);
        List<SafetensorsHeader> out = new ArrayList<>();
        Map<String, Path> byTensor = new LinkedHashMap<>();
        for (Path p : shards.paths()) {
            SafetensorsHeader h = SafetensorsHeader.read(p);
            out.add(h);
            for (String name : h.tensors().keySet()) shards.checkUnique(name, byTensor.putIfAbsent(name, p), p);
        }
        shards.checkIndex(byTensor.keySet(), byTensor::get);
        return List.copyOf(out);
    }

    /** The shard files of a folder and, when it has one, the index that lists them. */
    private record Shards(Path dir, Path index, Map<String, String> weightMap, List<Path> paths) {
        static Shards of(Path dir) {
            Path index = dir.resolve("model.safetensors.index.json");
            if (Files.exists(index)) {
                Map<String, String> weightMap = readIndex(index);
                List<Path> paths = new LinkedHashSet<>(weightMap.values()).stream().map(dir::resolve).toList();
                for (Path p : paths) {
                    if (!Files.exists(p)) throw new ModelFormatException(index + ": shard " + p.getFileName() + " does not exist");
                }
                return new Shards(dir, index, weightMap, paths);
            }
            if (Files.exists(dir.resolve("model.safetensors"))) return new Shards(dir, null, null, List.of(dir.resolve("model.safetensors")));
            List<Path> paths;
            try (Stream<Path> s = Files.list(dir)) {
                paths = s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                        .filter(p -> !p.getFileName().toString().startsWith("golden")).sorted().toList();
            } catch (IOException e) {
                throw new ModelFormatException(dir + ": cannot list the checkpoint folder: " + e.getMessage(), e);
            }
            if (paths.isEmpty()) throw new ModelFormatException(dir + ": no model.safetensors, index or *.safetensors file");
            return new Shards(dir, null, null, paths);
        }

        /** A tensor name may appear in one shard only; {@code previous} is the shard that already had it, or null. */
        void checkUnique(String name, Path previous, Path current) {
            if (previous != null) {
                throw new ModelFormatException(dir + ": tensor " + name + " appears in both " + previous.getFileName()
                        + " and " + current.getFileName());
            }
        }

        /** Every tensor the index names is in the shard it names. */
        void checkIndex(Set<String> present, Function<String, Path> fileOf) {
            if (weightMap == null) return;
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                if (!present.contains(e.getKey())) {
                    throw new ModelFormatException(index + ": weight_map names tensor " + e.getKey() + " but shard "
                            + e.getValue() + " does not contain it");
                }
                Path actual = fileOf.apply(e.getKey());
                if (!actual.getFileName().toString().equals(e.getValue())) {
                    throw new ModelFormatException(index + ": weight_map puts " + e.getKey() + " in " + e.getValue()
                            + " but it is in " + actual.getFileName());
                }
            }
        }
    }

    private static Map<String, String> readIndex(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new ModelFormatException(index + ": field weight_map is missing or not an object");
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String file = e.getValue().asText("");
            if (!e.getValue().isTextual() || file.isEmpty() || file.contains("/") || file.contains("\\")) {
                throw new ModelFormatException(index + ": weight_map." + e.getKey() + " = " + e.getValue() + " is not a shard file name");
            }
            out.put(e.getKey(), file);
        }
        return out;
    }

    public Path dir() {
        return dir;
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    @Override
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    @Override
    public Set<String> names() {
        return byTensor.keySet();
    }

    /** The tensor, with {@code name + "_scale"} or {@code name + "_scale_inv"} attached when present. */
    @Override
    public TensorData tensor(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw new ModelFormatException(dir + ": tensor " + name + " is missing from the checkpoint");
        TensorData t = f.tensor(name);
        String scaleName = scaleName(name);
        if (scaleName != null) {
            t = t.withScale(byTensor.get(scaleName).tensor(scaleName));
            ScaleLayout.checkAttachable(t);
        } else if (t.dtype() == DType.F8_E4M3 || t.dtype() == DType.F8_E5M2) {
            throw new ModelFormatException(dir + ": FP8 tensor " + name + " has no " + name + "_scale or " + name + "_scale_inv");
        }
        return t;
    }

    /** The name of the scale stored for {@code name}, or null; a weight with both forms is ambiguous. */
    private String scaleName(String name) {
        List<String> present = SCALE_SUFFIXES.stream().map(s -> name + s).filter(byTensor::containsKey).toList();
        if (present.size() > 1) throw new ModelFormatException(dir + ": tensor " + name + " has two scales, " + present);
        return present.isEmpty() ? null : present.getFirst();
    }

    /** Whether {@code name} is the scale of another tensor of this checkpoint. */
    public boolean isScale(String name) {
        String weight = weightOfScale(name);
        return weight != null && byTensor.containsKey(weight);
    }

    /**
     * The weight a tensor named like a scale ({@code X_scale}, {@code X_scale_inv}) would belong to, from the name
     * alone, or null for other names.
     */
    public static String weightOfScale(String name) {
        for (String s : SCALE_SUFFIXES.reversed()) {
            if (name.endsWith(s)) return name.substring(0, name.length() - s.length());
        }
        return null;
    }

    /** A tensor that must have the given shape; the error names tensor, file, expected and actual shape. */
    public TensorData tensor(String name, long... expectedShape) {
        TensorData t = tensor(name);
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new ModelFormatException(dir + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(expectedShape) + " (in " + byTensor.get(name).path().getFileName() + ")");
        }
        return t;
    }

    /** The shape of a tensor without touching its data, or null if absent. */
    public long[] shapeOf(String name) {
        SafetensorsFile f = byTensor.get(name);
        return f == null ? null : f.shape(name);
    }

    public DType dtypeOf(String name) {
        SafetensorsFile f = byTensor.get(name);
        return f == null ? null : f.dtype(name);
    }

    @Override
    public long bytesMapped() {
        return files.stream().mapToLong(SafetensorsFile::dataBytes).sum();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
