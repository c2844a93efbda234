package jp.mamori.config;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Command-line options of the form {@code --name value}, {@code --name=value} and {@code --flag}. */
public final class Args {
    private final Map<String, String> values;
    private final Set<String> flags;

    private Args(Map<String, String> values, Set<String> flags) {
        this.values = values;
        this.flags = flags;
    }

    /** Unknown options, missing values and repeated options are refused with a {@link ConfigException}. */
    public static Args parse(List<String> args, List<String> valued, List<String> flagNames) {
        Map<String, String> values = new HashMap<>();
        Set<String> flags = new HashSet<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            if (flagNames.contains(name) && inline == null) {
                flags.add(name);
            } else if (valued.contains(name)) {
                String value = inline;
                if (value == null) {
                    if (i + 1 >= args.size()) {
                        throw new ConfigException(name + " needs a value");
                    }
                    value = args.get(++i);
                }
                if (values.put(name, value) != null) {
                    throw new ConfigException(name + " given twice");
                }
            } else {
                throw new ConfigException("unknown option '" + arg + "'; options: " + String.join(", ", valued)
                        + (flagNames.isEmpty() ? "" : ", " + String.join(", ", flagNames)));
            }
        }
        return new Args(values, flags);
    }

    public Optional<String> value(String name) {
        return Optional.ofNullable(values.get(name));
    }

    public String required(String name) {
        return value(name).orElseThrow(() -> new ConfigException(name + " is required"));
    }

    public Optional<Integer> intValue(String name) {
        return value(name).map(v -> {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new ConfigException(name + " must be a whole number, got '" + v + "'");
            }
        });
    }

    public boolean flag(String name) {
        return flags.contains(name);
    }
}
