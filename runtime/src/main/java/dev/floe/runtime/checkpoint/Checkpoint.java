package dev.floe.runtime.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;
import dev.floe.spi.FloatFormats;
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
import java.util.stream.Stream;

/**
 * The tensors of a checkpoint folder: one {@code model.safetensors}, shards listed by
 * {@code model.safetensors.index.json}, or every {@code *.safetensors} file of the folder. Files are memory-mapped;
 * nothing is read until a tensor's data is touched. A quantised weight {@code X.weight} comes with its scale
 * {@code X.weight_scale} attached (spec section 7).
 */
public final class Checkpoint implements TensorSource, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCALE_SUFFIX = "_scale";

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
        Path index = dir.resolve("model.safetensors.index.json");
        List<Path> paths;
        Map<String, String> weightMap = null;
        if (Files.exists(index)) {
            weightMap = readIndex(index);
            paths = new LinkedHashSet<>(weightMap.values()).stream().map(dir::resolve).toList();
        } else if (Files.exists(dir.resolve("model.safetensors"))) {
            paths = List.of(dir.resolve("model.safetensors"));
        } else {
            try (Stream<Path> s = Files.list(dir)) {
                paths = s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                        .filter(p -> !p.getFileName().toString().startsWith("golden")).sorted().toList();
            } catch (IOException e) {
                throw new ModelFormatException(dir + ": cannot list the checkpoint folder: " + e.getMessage(), e);
            }
            if (paths.isEmpty()) throw new ModelFormatException(dir + ": no model.safetensors, index or *.safetensors file");
        }
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Path p : paths) {
                if (!Files.exists(p)) throw new ModelFormatException(index + ": shard " + p.getFileName() + " does not exist");
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (String name : f.names()) {
                    SafetensorsFile prev = byTensor.putIfAbsent(name, f);
                    if (prev != null) {
                        throw new ModelFormatException(dir + ": tensor " + name + " appears in both " + prev.path().getFileName()
                                + " and " + p.getFileName());
                    }
                }
            }
            if (weightMap != null) checkIndex(index, weightMap, byTensor);
            return new Checkpoint(dir, List.copyOf(files), byTensor);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
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

    private static void checkIndex(Path index, Map<String, String> weightMap, Map<String, SafetensorsFile> byTensor) {
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            SafetensorsFile f = byTensor.get(e.getKey());
            if (f == null) {
                throw new ModelFormatException(index + ": weight_map names tensor " + e.getKey() + " but shard "
                        + e.getValue() + " does not contain it");
            }
            if (!f.path().getFileName().toString().equals(e.getValue())) {
                throw new ModelFormatException(index + ": weight_map puts " + e.getKey() + " in " + e.getValue()
                        + " but it is in " + f.path().getFileName());
            }
        }
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

    /** The tensor, with {@code name + "_scale"} attached when present. */
    @Override
    public TensorData tensor(String name) {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw new ModelFormatException(dir + ": tensor " + name + " is missing from the checkpoint");
        TensorData t = f.tensor(name);
        String scaleName = name + SCALE_SUFFIX;
        if (byTensor.containsKey(scaleName)) {
            t = t.withScale(byTensor.get(scaleName).tensor(scaleName));
            FloatFormats.checkScale(t);
        } else if (t.dtype() == DType.F8_E4M3 || t.dtype() == DType.F8_E5M2) {
            throw new ModelFormatException(dir + ": FP8 tensor " + name + " has no " + scaleName);
        }
        return t;
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
