package jp.mamori.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * What the in-process benchmarks ({@code bench identity}, {@code bench access}) share around their run:
 * usage, option errors as one line and exit 2, a data folder that must be new, and failures as one line
 * and exit 1.
 */
final class InProcessBench {
    @FunctionalInterface
    interface Body<O> {
        int run(O options, PrintStream out, PrintStream err) throws Exception;
    }

    private InProcessBench() {
    }

    /**
     * @param name     the word after {@code bench}, for messages
     * @param contents what the benchmark creates in its folder, for the message when the folder is not new
     */
    static <O> int main(String name, String usage, String contents, List<String> args,
                        Function<List<String>, O> parse, Function<O, Path> data, Body<O> body,
                        PrintStream out, PrintStream err) {
        if (args.contains("--help") || args.contains("-h")) {
            out.println(usage);
            return 0;
        }
        O o;
        try {
            o = parse.apply(args);
        } catch (IllegalArgumentException e) {
            err.println("bench " + name + ": " + e.getMessage());
            err.println(usage);
            return 2;
        }
        try {
            if (!isNewFolder(data.apply(o))) {
                err.println("bench " + name + ": " + data.apply(o) + " is not a new, empty folder; the benchmark creates"
                        + " its own " + contents);
                return 2;
            }
            return body.run(o, out, err);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("bench " + name + ": interrupted");
            return 1;
        } catch (Exception e) {
            err.println("bench " + name + ": failed: " + HttpSupport.describe(e));
            return 1;
        }
    }

    private static boolean isNewFolder(Path p) throws IOException {
        if (!Files.exists(p)) {
            return true;
        }
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(p)) {
            return entries.findAny().isEmpty();
        }
    }
}
