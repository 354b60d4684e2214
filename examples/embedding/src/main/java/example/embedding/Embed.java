package example.embedding;

import dev.floe.api.Floe;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.Model;

import java.nio.file.Path;

/** {@code Embed MODEL_DIR [PROMPT]}: the README's snippet as an application; prints the result record last. */
public final class Embed {
    private Embed() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "models/arctic-tiny-code");
        String prompt = args.length > 1 ? args[1] : "def add(a, b):\n";
        try (Model model = Floe.load(dir)) {
            GenerationResult r = model.generate(GenerationRequest.of(prompt, 32), token -> System.out.print(token.text()));
            System.out.println();
            System.out.println(r);
        }
    }
}
