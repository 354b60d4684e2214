package dev.floe.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of {@code tokenizer.json}. A word starts as one symbol per character (or per UTF-8 byte through
 * {@code <0xXX>} tokens when the character is not in the vocabulary and {@code byte_fallback} is on); then the
 * adjacent pair with the lowest merge rank is merged, leftmost first, until no pair has a merge. A binary heap of
 * candidate pairs makes a word of n symbols cost O(n log n) instead of rescanning all merges; results of short words
 * are cached.
 */
final class BpeModel {

    private static final int CACHE_CAPACITY = 50_000;
    private static final int CACHE_MAX_WORD = 128;

    private final Map<String, Integer> vocab;
    private final PairMap merges;
    private final int unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final String prefix;
    private final String suffix;
    private final int[] byteIds = new int[256];
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeModel(Map<String, Integer> vocab, PairMap merges, int unkId, boolean fuseUnk, boolean byteFallback,
                     boolean ignoreMerges, String prefix, String suffix) {
        this.vocab = vocab;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.prefix = prefix;
        this.suffix = suffix;
        for (int b = 0; b < 256; b++) {
            byteIds[b] = vocab.getOrDefault(byteToken(b), -1);
        }
    }

    static String byteToken(int b) {
        return "<0x%02X>".formatted(b);
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    static BpeModel parse(JsonAt json) {
        String type = json.text("type", "BPE");
        if (!type.equals("BPE")) {
            throw json.get("type").error("unsupported model type (only BPE is implemented)");
        }
        JsonAt vocabJson = json.get("vocab");
        if (!vocabJson.node().isObject()) {
            throw vocabJson.error("expected an object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabJson.node().size() * 2);
        for (var e : vocabJson.node().properties()) {
            int id = new JsonAt(vocabJson.file(), vocabJson.path() + "[\"" + e.getKey() + "\"]", e.getValue()).integer();
            if (id < 0) {
                throw new JsonAt(vocabJson.file(), vocabJson.path() + "[\"" + e.getKey() + "\"]", e.getValue())
                        .error("token ids must not be negative");
            }
            vocab.put(e.getKey(), id);
        }
        String prefix = json.text("continuing_subword_prefix", "");
        String suffix = json.text("end_of_word_suffix", "");

        var mergeList = json.opt("merges").map(JsonAt::elements).orElse(java.util.List.of());
        PairMap merges = new PairMap(mergeList.size());
        for (int rank = 0; rank < mergeList.size(); rank++) {
            JsonAt m = mergeList.get(rank);
            String a;
            String b;
            if (m.node().isTextual()) {
                String s = m.text();
                int space = s.indexOf(' ');
                if (space <= 0 || space == s.length() - 1 || s.indexOf(' ', space + 1) >= 0) {
                    throw m.error("a merge string must be two tokens separated by one space");
                }
                a = s.substring(0, space);
                b = s.substring(space + 1);
            } else if (m.node().isArray() && m.node().size() == 2) {
                a = m.elements().get(0).text();
                b = m.elements().get(1).text();
            } else {
                throw m.error("a merge must be \"a b\" or [\"a\", \"b\"]");
            }
            Integer idA = vocab.get(a);
            Integer idB = vocab.get(b);
            String merged = a + (!prefix.isEmpty() && b.startsWith(prefix) ? b.substring(prefix.length()) : b);
            Integer idM = vocab.get(merged);
            for (var check : new Object[][] {{a, idA}, {b, idB}, {merged, idM}}) {
                if (check[1] == null) {
                    throw m.error("merge names a token that is not in model.vocab: \"" + check[0] + "\"");
                }
            }
            merges.putIfAbsent(idA, idB, rank, idM);
        }

        int unkId = -1;
        if (json.has("unk_token")) {
            JsonAt unk = json.get("unk_token");
            Integer id = vocab.get(unk.text());
            if (id == null) {
                throw unk.error("unk_token is not in model.vocab");
            }
            unkId = id;
        }
        return new BpeModel(vocab, merges, unkId, json.bool("fuse_unk", false), json.bool("byte_fallback", false),
                json.bool("ignore_merges", false), prefix, suffix);
    }

    /** The ids of one pre-tokenized word. */
    int[] encode(String word) {
        if (word.length() <= CACHE_MAX_WORD) {
            int[] hit = cache.get(word);
            if (hit != null) {
                return hit;
            }
        }
        int[] ids = compute(word);
        if (word.length() <= CACHE_MAX_WORD && cache.size() < CACHE_CAPACITY) {
            cache.putIfAbsent(word, ids);
        }
        return ids;
    }

    private int[] compute(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                return new int[] {whole};
            }
        }
        // Initial symbols.
        int[] sym = new int[Math.max(4, word.length() * 2)];
        int n = 0;
        boolean lastWasUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int end = i + Character.charCount(cp);
            String ch = word.substring(i, end);
            if (!prefix.isEmpty() && i > 0) {
                ch = prefix + ch;
            }
            if (!suffix.isEmpty() && end == word.length()) {
                ch = ch + suffix;
            }
            i = end;
            Integer id = vocab.get(ch);
            if (id != null) {
                sym = ensure(sym, n + 1);
                sym[n++] = id;
                lastWasUnk = false;
                continue;
            }
            if (byteFallback) {
                byte[] bytes = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) {
                    all &= byteIds[b & 0xFF] >= 0;
                }
                if (all) {
                    sym = ensure(sym, n + bytes.length);
                    for (byte b : bytes) {
                        sym[n++] = byteIds[b & 0xFF];
                    }
                    lastWasUnk = false;
                    continue;
                }
            }
            if (unkId >= 0) {
                if (!(fuseUnk && lastWasUnk)) {
                    sym = ensure(sym, n + 1);
                    sym[n++] = unkId;
                }
                lastWasUnk = true;
            } // without an unk token the character is dropped, as Hugging Face does
        }
        if (n < 2) {
            return Arrays.copyOf(sym, n);
        }
        return merge(sym, n);
    }

    private int[] merge(int[] ids, int n) {
        int[] next = new int[n];
        int[] prev = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        boolean[] gone = new boolean[n];
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i + 1 < n; i++) {
            long m = merges.get(ids[i], ids[i + 1]);
            if (m != PairMap.NONE) {
                heap.push((long) PairMap.rank(m) << 32 | i);
            }
        }
        int live = n;
        while (!heap.isEmpty()) {
            long top = heap.pop();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            int right = next[pos];
            if (gone[pos] || right < 0) {
                continue;
            }
            long m = merges.get(ids[pos], ids[right]);
            if (m == PairMap.NONE || PairMap.rank(m) != rank) {
                continue; // stale: one of the two symbols changed since this pair was queued
            }
            ids[pos] = PairMap.result(m);
            gone[right] = true;
            live--;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0) {
                long l = merges.get(ids[prev[pos]], ids[pos]);
                if (l != PairMap.NONE) {
                    heap.push((long) PairMap.rank(l) << 32 | prev[pos]);
                }
            }
            if (next[pos] >= 0) {
                long r = merges.get(ids[pos], ids[next[pos]]);
                if (r != PairMap.NONE) {
                    heap.push((long) PairMap.rank(r) << 32 | pos);
                }
            }
        }
        int[] out = new int[live];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[k++] = ids[i];
        }
        return out;
    }

    private static int[] ensure(int[] a, int size) {
        return size <= a.length ? a : Arrays.copyOf(a, Math.max(size, a.length * 2));
    }

    /** Open-addressing map from a pair of ids to (rank, merged id), packed in longs to avoid boxing. */
    static final class PairMap {
        static final long NONE = -1L;
        private long[] keys;
        private long[] values;
        private int mask;

        PairMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 + 1)) << 1;
            keys = new long[cap];
            values = new long[cap];
            Arrays.fill(keys, -1L);
            mask = cap - 1;
        }

        static int rank(long value) {
            return (int) (value >>> 32);
        }

        static int result(long value) {
            return (int) value;
        }

        /** Keeps the first (best-ranked) occurrence of a pair, as Hugging Face does. */
        void putIfAbsent(int a, int b, int rank, int merged) {
            long key = (long) a << 32 | (b & 0xFFFFFFFFL);
            int i = slot(key);
            while (keys[i] != -1L) {
                if (keys[i] == key) {
                    return;
                }
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = (long) rank << 32 | (merged & 0xFFFFFFFFL);
        }

        long get(int a, int b) {
            long key = (long) a << 32 | (b & 0xFFFFFFFFL);
            for (int i = slot(key); ; i = (i + 1) & mask) {
                long k = keys[i];
                if (k == key) {
                    return values[i];
                }
                if (k == -1L) {
                    return NONE;
                }
            }
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) {
                    break;
                }
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) {
                    break;
                }
                if (c + 1 < size && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
